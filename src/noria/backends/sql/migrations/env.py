"""Alembic environment: Noria runs migrations itself, on a connection it passes in.

See :mod:`noria.backends.sql.migrator`; there is no ``alembic.ini`` and no offline mode.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from noria.backends.sql.tables import metadata
from noria.errors import Unsupported

connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(connection, Connection):
    raise Unsupported(
        "Noria migrations run only through `noria db upgrade` or `noria init`, "
        "which pass an open database connection."
    )

# render_as_batch: SQLite can only ALTER tables by copying them.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
