"""The ports over a remote Noria server's REST API (``http(s)://`` URIs)."""
