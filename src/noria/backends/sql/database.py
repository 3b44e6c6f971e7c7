"""One store's lazily opened engine, its transactions and its schema gate."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine

from noria.backends.sql import migrator
from noria.backends.sql.engine import make_engine, mask_uri, parse_uri, run_transaction
from noria.domain.schema import SchemaState, SchemaStatus
from noria.errors import SchemaOutdated, SchemaTooNew, StoreNotInitialized

T = TypeVar("T")


class SqlDatabase:
    """Shared by a store and its repos; opens nothing until first used."""

    def __init__(self, uri: str) -> None:
        parse_uri(uri)  # refuse a malformed URI now rather than on first use
        self._uri = uri
        self.display_uri = mask_uri(uri)
        self._engine: Engine | None = None
        self._ready = False
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self._uri)
            return self._engine

    def read(self, work: Callable[[Connection], T]) -> T:
        return run_transaction(self.engine, work, write=False)

    def write(self, work: Callable[[Connection], T]) -> T:
        return run_transaction(self.engine, work, write=True)

    def ensure_ready(self) -> None:
        """Check the schema once per store; never creates tables."""
        if self._ready:
            return
        state = self.read(migrator.schema_state)
        if state.status is SchemaStatus.EMPTY:
            raise StoreNotInitialized(
                f"Metadata store {self.display_uri} has no Noria schema yet: "
                "run `noria init` to create it."
            )
        self.check_state(state)

    def check_state(self, state: SchemaState) -> SchemaState:
        """Raise for a store this code must not use; remember a current one."""
        if state.status is SchemaStatus.OUTDATED:
            raise SchemaOutdated(
                f"Metadata store {self.display_uri} is at schema revision {state.revision}, "
                f"this Noria needs {state.head}: run `noria db upgrade` "
                "(back up the database first)."
            )
        if state.status is SchemaStatus.TOO_NEW:
            raise SchemaTooNew(
                f"Metadata store {self.display_uri} was written by a newer Noria "
                f"(revision {state.revision} unknown; this version knows up to {state.head}): "
                "upgrade Noria; the store was not changed."
            )
        self._ready = state.status is SchemaStatus.CURRENT
        return state

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
            self._ready = False
        if engine is not None:
            engine.dispose()
