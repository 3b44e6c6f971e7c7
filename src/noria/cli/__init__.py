"""The ``noria`` command: parse → settings → service → render."""
