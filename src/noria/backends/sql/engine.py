"""Engines for SQLite and PostgreSQL, and transactions that survive lock contention.

SQLite write transactions start with ``BEGIN IMMEDIATE``: a deferred ``BEGIN`` that
later upgrades its read lock to a write lock fails at once with SQLITE_BUSY instead
of waiting for ``busy_timeout``, so concurrent writers would error out.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from noria.errors import BackendError, InvalidUri

T = TypeVar("T")

# Connection execution option that asks the "begin" hook for BEGIN IMMEDIATE.
WRITE_OPTION = "noria_write"
DEFAULT_BUSY_TIMEOUT_S = 30.0
DEFAULT_RETRY_FOR_S = 30.0

_SQLITE_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)
_PG_RETRY_STATES = ("40001", "40P01")  # serialization_failure, deadlock_detected
_POSTGRES_DRIVERS = ("postgres", "postgresql", "postgresql+psycopg")


def parse_uri(uri: str) -> URL:
    """The SQLAlchemy URL for a store URI, with PostgreSQL pinned to psycopg 3."""
    try:
        url = make_url(uri)
    except ArgumentError as exc:
        raise InvalidUri(f"Invalid metadata store URI {mask_uri(uri)!r}: {exc}") from exc
    if url.drivername in _POSTGRES_DRIVERS:
        return url.set(drivername="postgresql+psycopg")
    if url.drivername != "sqlite":
        raise InvalidUri(
            f"Unsupported SQL store URI {mask_uri(uri)!r}: use sqlite:///path/noria.db "
            "or postgresql+psycopg://user@host/db."
        )
    return url


def mask_uri(uri: str) -> str:
    """The URI as users may see it: any password replaced by ``***``."""
    try:
        return make_url(uri).render_as_string(hide_password=True)
    except ArgumentError:
        return uri.rsplit("@", maxsplit=1)[-1] if "@" in uri else uri


def make_engine(uri: str, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    """A new engine for ``uri``; the caller owns it and must ``dispose()`` it."""
    url = parse_uri(uri)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _is_file_db(url: URL) -> bool:
    return url.database not in (None, "", ":memory:") and url.query.get("mode") != "memory"


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    if _is_file_db(url) and url.database is not None:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s})
    busy_ms = int(busy_timeout_s * 1000)
    wal = _is_file_db(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so that "begin" below decides it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL may itself wait for a lock.
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def is_retryable(exc: DBAPIError) -> bool:
    """Whether ``exc`` is lock contention that a later attempt may get past."""
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_BUSY_CODES:
        return True
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return "database is locked" in text or "busy" in text
    return getattr(orig, "sqlstate", None) in _PG_RETRY_STATES


def run_transaction(
    engine: Engine,
    work: Callable[[Connection], T],
    *,
    write: bool,
    retry_for_s: float = DEFAULT_RETRY_FOR_S,
) -> T:
    """Run ``work`` in one transaction, again from the start while the database is busy.

    ``work`` must only touch the database, since it may run more than once. Errors
    come out as :class:`BackendError` (or whatever ``NoriaError`` ``work`` raised).
    """
    deadline = time.monotonic() + retry_for_s
    attempt = 0
    while True:
        try:
            return _attempt(engine, work, write)
        except DBAPIError as exc:
            if not is_retryable(exc):
                raise describe_error(engine.url, exc) from exc
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"Metadata store {_shown(engine.url)} stayed busy (locked by another "
                    f"writer) for over {retry_for_s:g} s: {_reason(exc)}. Retry later, or "
                    "use PostgreSQL for many concurrent writers."
                ) from exc
        except SQLAlchemyError as exc:
            raise describe_error(engine.url, exc) from exc
        attempt += 1
        # Full jitter keeps competing processes from retrying in lockstep.
        time.sleep(random.uniform(0, min(0.25, 0.005 * 2 ** min(attempt, 8))))


def _attempt(engine: Engine, work: Callable[[Connection], T], write: bool) -> T:
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        if is_retryable(exc):
            raise
        raise connection_error(engine.url, exc) from exc
    with connection:
        if write:
            connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            return work(connection)


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own message, on one line, without SQL or links."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    primary = getattr(getattr(source, "diag", None), "message_primary", None)
    if isinstance(primary, str) and primary:  # psycopg: drop CONTEXT and the like
        return primary
    lines = [line.strip() for line in str(source).strip().splitlines() if line.strip()]
    return "; ".join(lines) or type(source).__name__


def connection_error(url: URL, exc: SQLAlchemyError) -> BackendError:
    """A one-line error for a store that cannot be reached or opened."""
    if url.get_backend_name() == "sqlite":
        return BackendError(
            f"Cannot open SQLite database {url.database}: {_reason(exc)}. Check that "
            "the path is right and that its folder is writable."
        )
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return BackendError(
        f"Cannot connect to PostgreSQL at {where}: {_reason(exc)}. Check that the server "
        "is running and that the URI's host, port, database, user and password are right."
    )


def describe_error(url: URL, exc: SQLAlchemyError) -> BackendError:
    """A one-line error for a statement the database refused."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return connection_error(url, exc)
    return BackendError(f"Metadata store {_shown(url)} failed: {_reason(exc)}")
