"""Plain SQL on the DBAPI cursor of a SQLAlchemy transaction, for the tracker's hot paths.

Building, caching and executing a SQLAlchemy Core statement costs about 80 µs here,
ten times what SQLite takes to run a primary-key lookup; a run's life is a dozen such
statements. The few statements on those paths are written once as SQL, with ``?``
placeholders on both databases, and run on the driver's cursor inside the caller's
transaction. Driver errors come out wrapped as SQLAlchemy's, so ``run_transaction``
still retries lock contention and describes failures.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

Params = Sequence[Any]


@functools.lru_cache(maxsize=1024)
def _format_style(sql: str) -> str:
    # Only ever called on the constant statements of this package: no '?' or '%' in them
    # but placeholders.
    return sql.replace("?", "%s")


@contextmanager
def driver_cursor(connection: Connection, sql: str) -> Iterator[Any]:
    """A DBAPI cursor in the connection's transaction; driver errors come out as
    SQLAlchemy's (``sql`` names the statement in them)."""
    dbapi_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi_error, dialect=connection.dialect) from exc
    finally:
        cursor.close()


class Driver:
    """Statements with ``?`` placeholders, on SQLite and PostgreSQL alike."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    def sql(self, statement: str) -> str:
        return _format_style(statement) if self.postgres else statement

    def rows(self, statement: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Every row ``statement`` answers."""
        sql = self.sql(statement)
        with driver_cursor(self.connection, sql) as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

    def first(self, statement: str, params: Params = ()) -> tuple[Any, ...] | None:
        sql = self.sql(statement)
        with driver_cursor(self.connection, sql) as cursor:
            cursor.execute(sql, params)
            row: tuple[Any, ...] | None = cursor.fetchone()
            return row

    def run(self, statement: str, params: Params = ()) -> int:
        """Execute one statement; returns how many rows it changed."""
        sql = self.sql(statement)
        with driver_cursor(self.connection, sql) as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)

    def run_many(self, statement: str, rows: Iterable[Params]) -> None:
        sql = self.sql(statement)
        with driver_cursor(self.connection, sql) as cursor:
            cursor.executemany(sql, rows)

    def insert_values(self, head: str, rows: Iterable[Params], width: int) -> None:
        """``head`` (``INSERT INTO t (a, b) VALUES``) for rows of ``width`` values, as few
        statements as ``MAX_PLACEHOLDERS`` allows, each with a multi-row VALUES list.
        ``executemany`` runs its statement once per row; on SQLite this inserts 10,000
        metric points in less than half its time."""
        per_statement = max(1, MAX_PLACEHOLDERS // width)
        remaining = iter(rows)
        sql = self.sql(_values_sql(head, width, per_statement))
        with driver_cursor(self.connection, sql) as cursor:
            while part := list(chain.from_iterable(islice(remaining, per_statement))):
                count = len(part) // width
                if count != per_statement:
                    sql = self.sql(_values_sql(head, width, count))
                cursor.execute(sql, part)


# SQLite builds before 3.32 allow at most 999 placeholders in one statement.
MAX_PLACEHOLDERS = 999


@functools.lru_cache(maxsize=256)
def _values_sql(head: str, width: int, rows: int) -> str:
    return f"{head} " + ", ".join([f"({placeholders(width)})"] * rows)


def placeholders(count: int) -> str:
    """``?, ?, …`` for an IN list or a VALUES row of ``count`` values."""
    return ", ".join("?" * count)
