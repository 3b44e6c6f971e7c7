"""Several processes sharing one SQLite store, and the lock handling that makes it work."""

from __future__ import annotations

import sqlite3
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text

from noria.backends.sql.engine import make_engine, run_transaction
from noria.backends.sql.store import SqlMetadataStore
from noria.domain.audit import AuditEvent, AuditQuery
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.schema import SchemaStatus
from noria.errors import BackendError
from tests.processes import run_workers

WORKERS = 4
EVENTS = 300
EDGES = 300
BATCH = 10
SHARED = 30  # edges every worker records, so duplicates race too


def _edge(owner: str, index: int) -> LineageEdge:
    return LineageEdge(
        EntityRef(EntityKind.ARTIFACT, f"{owner}-in-{index}"),
        Relation.PRODUCED,
        EntityRef(EntityKind.ARTIFACT, f"{owner}-out-{index}"),
    )


def _write_interleaved(store: SqlMetadataStore, worker: int) -> int:
    """Append events one by one and edges in small batches; returns edges added."""
    added = 0
    for i in range(EVENTS):
        entity = EntityRef(EntityKind.ARTIFACT, f"w{worker}-{i}")
        store.audit.append(AuditEvent(f"worker-{worker}", "test.write", entity, datetime.now(UTC)))
        if i % BATCH == BATCH - 1:
            batch = [_edge(f"w{worker}", j) for j in range(i - BATCH + 1, i + 1)]
            shared = i // BATCH % (SHARED // BATCH) * BATCH
            batch += [_edge("shared", j) for j in range(shared, shared + BATCH)]
            added += store.lineage.add_edges(batch)
    return added


def _writer(uri: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    errors: list[str] = []
    added = 0
    try:
        with SqlMetadataStore(uri) as store:
            barrier.wait(timeout=60)
            added = _write_interleaved(store, worker)
    except Exception:
        errors.append(traceback.format_exc())
    results.put((worker, added, errors))


def _initializer(uri: str, worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    errors: list[str] = []
    status = None
    try:
        store = SqlMetadataStore(uri)
        barrier.wait(timeout=60)
        status = store.initialize().status.value
        store.close()
    except Exception:
        errors.append(traceback.format_exc())
    results.put((worker, status, errors))


def _run_processes(target: Any, uri: str) -> list[tuple[int, Any, list[str]]]:
    return run_workers(target, [(uri, worker) for worker in range(WORKERS)], timeout=120)


@pytest.mark.slow
def test_processes_write_one_store_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    with SqlMetadataStore(uri) as store:
        store.initialize()

    outcomes = _run_processes(_writer, uri)

    assert [errors for _, _, errors in outcomes] == [[]] * WORKERS
    expected_edges = WORKERS * EDGES + SHARED
    assert sum(added for _, added, _ in outcomes) == expected_edges
    with SqlMetadataStore(uri) as store:
        assert store.audit.count() == WORKERS * EVENTS
        assert store.lineage.count() == expected_edges
        for worker in range(WORKERS):
            query = AuditQuery(actor=f"worker-{worker}")
            events = store.audit.list_events(query, limit=1000).items
            keys = {event.entity.key for event in events}
            assert keys == {f"w{worker}-{i}" for i in range(EVENTS)}


@pytest.mark.slow
def test_processes_initialize_a_new_file_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh' / 'noria.db'}"

    outcomes = _run_processes(_initializer, uri)

    assert [errors for _, _, errors in outcomes] == [[]] * WORKERS
    assert {status for _, status, _ in outcomes} == {SchemaStatus.CURRENT.value}
    with SqlMetadataStore(uri) as store:
        assert store.schema_state().status is SchemaStatus.CURRENT


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "noria.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{db_path}", busy_timeout_s=0.05)
    yield engine
    engine.dispose()


def test_connections_use_wal_and_write_transactions_begin_immediate(engine: Engine) -> None:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def pragmas(connection: Connection) -> list[Any]:
        names = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        return [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names]

    assert run_transaction(engine, pragmas, write=False) == ["wal", 1, 1, 50]
    run_transaction(engine, lambda c: c.execute(text("CREATE TABLE t (x INTEGER)")), write=True)
    begins = [sql for sql in statements if sql.startswith("BEGIN")]
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    raw.execute("BEGIN IMMEDIATE")
    return raw


def test_busy_writes_are_retried_until_the_lock_is_free(engine: Engine, db_path: Path) -> None:
    run_transaction(engine, lambda c: c.execute(text("CREATE TABLE t (x INTEGER)")), write=True)
    raw = _hold_write_lock(db_path)
    release = threading.Timer(0.3, raw.commit)
    release.start()
    try:
        # Readers are not blocked by the writer under WAL.
        assert run_transaction(engine, lambda c: c.execute(text("SELECT 1")).scalar(), write=False)
        run_transaction(engine, lambda c: c.execute(text("INSERT INTO t VALUES (1)")), write=True)
    finally:
        release.join()
        raw.close()
    assert run_transaction(engine, lambda c: c.execute(text("SELECT x FROM t")).all(), write=False)


def test_lock_held_too_long_gives_a_clear_error(engine: Engine, db_path: Path) -> None:
    run_transaction(engine, lambda c: c.execute(text("CREATE TABLE t (x INTEGER)")), write=True)
    raw = _hold_write_lock(db_path)
    try:
        with pytest.raises(BackendError, match=r"stayed busy .* for over 0.2 s") as raised:
            run_transaction(
                engine,
                lambda c: c.execute(text("INSERT INTO t VALUES (1)")),
                write=True,
                retry_for_s=0.2,
            )
    finally:
        raw.close()
    assert "\n" not in raised.value.message
