"""The SQL metadata store (SQLite and PostgreSQL), built by :mod:`noria.backends.schemes`."""
