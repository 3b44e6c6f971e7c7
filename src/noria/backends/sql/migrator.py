"""Alembic migrations run from code, and what a store's revision means for this Noria.

Everything here works on a connection inside the caller's transaction, so checking
the revision and migrating happen atomically (PostgreSQL and SQLite both have
transactional DDL once Noria emits BEGIN itself).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from noria.backends.sql.engine import run_transaction
from noria.backends.sql.tables import NORIA_TABLES
from noria.domain.schema import SchemaState, SchemaStatus
from noria.errors import BackendError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
# Arbitrary constant: serialises Noria migrations on one PostgreSQL server.
_PG_LOCK_KEY = 0x6E6F726961


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic Alembic config; ``connection`` is what ``env.py`` migrates."""
    config = Config()
    # configparser treats '%' as interpolation, so escape it in the path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows, e.g. ``'0002'``."""
    head = _scripts().get_current_head()
    if head is None:  # only if the versions folder were missing from the install
        raise BackendError(f"No Noria migrations found in {MIGRATIONS_DIR}: reinstall Noria.")
    return head


def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The store's revision, ``None`` when it has none; several heads are joined by ','."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def schema_state(connection: Connection) -> SchemaState:
    """Classify the store behind ``connection`` against this code's head."""
    head = head_revision()
    tables = set(inspect(connection).get_table_names())
    revision = current_revision(connection) if VERSION_TABLE in tables else None
    if revision is None:
        if found := sorted(tables & NORIA_TABLES):
            raise BackendError(
                f"The database has Noria tables ({', '.join(found)}) but no schema "
                f"revision in {VERSION_TABLE}: it was not created by `noria init`. "
                "Restore it from a backup or point Noria at an empty database."
            )
        return SchemaState(revision=None, head=head, status=SchemaStatus.EMPTY)
    if revision == head:
        status = SchemaStatus.CURRENT
    elif revision in known_revisions():
        status = SchemaStatus.OUTDATED
    else:
        status = SchemaStatus.TOO_NEW
    return SchemaState(revision=revision, head=head, status=status)


def lock_for_migration(connection: Connection) -> None:
    """Make concurrent migrators wait for each other until this transaction ends.

    SQLite needs nothing: the write transaction began with BEGIN IMMEDIATE.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Migrate up to ``revision`` inside the connection's current transaction."""
    command.upgrade(alembic_config(connection), revision)


def downgrade_connection(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def migrate(engine: Engine, revision: str = "head") -> SchemaState:
    """Upgrade the store to ``revision`` in one transaction; returns the new state."""

    def work(connection: Connection) -> SchemaState:
        lock_for_migration(connection)
        upgrade_connection(connection, revision)
        return schema_state(connection)

    return run_transaction(engine, work, write=True)


def downgrade(engine: Engine, revision: str) -> SchemaState:
    """Downgrade to ``revision`` (``'base'`` drops everything); for tests and rollbacks."""

    def work(connection: Connection) -> SchemaState:
        lock_for_migration(connection)
        downgrade_connection(connection, revision)
        return schema_state(connection)

    return run_transaction(engine, work, write=True)
