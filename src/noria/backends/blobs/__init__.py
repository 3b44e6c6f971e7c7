"""Blob stores: the byte-level port on a local folder, in memory, or on any fsspec filesystem."""
