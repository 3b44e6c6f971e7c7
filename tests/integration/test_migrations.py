"""Schema lifecycle of the SQL store on SQLite and PostgreSQL: create, refuse, upgrade."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from noria.backends.sql import migrator
from noria.backends.sql.engine import make_engine
from noria.backends.sql.store import SqlMetadataStore
from noria.backends.sql.tables import audit_events, lineage_edges, metadata
from noria.domain.audit import AuditEvent, AuditQuery
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Direction, LineageEdge, Relation
from noria.domain.schema import SchemaStatus
from noria.domain.tracking import Metric
from noria.errors import BackendError, SchemaOutdated, SchemaTooNew, StoreNotInitialized

DATA = EntityRef(EntityKind.DATASET_VERSION, "iris/1")
MODEL = EntityRef(EntityKind.MODEL_VERSION, "classifier/1")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'noria.db'}"
    postgres_uri: str = request.getfixturevalue("postgres_uri")
    return postgres_uri


@pytest.fixture
def engine(uri: str) -> Iterator[Engine]:
    engine = make_engine(uri)
    yield engine
    engine.dispose()


def in_transaction(engine: Engine, work: Callable[[Connection], Any]) -> Any:
    with engine.begin() as connection:
        return work(connection)


def tables(engine: Engine) -> set[str]:
    return set(in_transaction(engine, lambda c: inspect(c).get_table_names()))


def event(action: str = "model.register") -> AuditEvent:
    return AuditEvent("ana", action, MODEL, datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC))


def test_store_refuses_outdated_schema_until_upgraded(uri: str, engine: Engine) -> None:
    migrator.migrate(engine, "0001")
    row = {
        "upstream_kind": "dataset_version",
        "upstream_key": "iris/1",
        "relation": "consumed",
        "downstream_kind": "model_version",
        "downstream_key": "classifier/1",
        "recorded_at": 1_700_000_000_000_000,
    }
    in_transaction(engine, lambda c: c.execute(insert(lineage_edges).values(row)))

    store = SqlMetadataStore(uri)
    with pytest.raises(SchemaOutdated) as raised:
        store.initialize()
    message = raised.value.message
    assert "\n" not in message
    assert "noria db upgrade" in message
    assert f"revision 0001, this Noria needs {migrator.head_revision()}" in message
    with pytest.raises(SchemaOutdated):
        store.lineage.walk(MODEL, Direction.UPSTREAM, depth=1)
    assert store.schema_state().status is SchemaStatus.OUTDATED

    assert store.upgrade().status is SchemaStatus.CURRENT
    (step,) = store.lineage.walk(MODEL, Direction.UPSTREAM, depth=1)
    assert step.edge == LineageEdge(DATA, Relation.CONSUMED, MODEL)
    assert step.recorded_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert store.audit.append(event()).seq is not None
    assert store.initialize().status is SchemaStatus.CURRENT
    store.close()


def test_store_from_a_newer_noria_is_refused_and_left_alone(uri: str, engine: Engine) -> None:
    with SqlMetadataStore(uri) as store:
        store.initialize()
        store.audit.append(event())
    in_transaction(
        engine, lambda c: c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    )
    before = tables(engine)

    store = SqlMetadataStore(uri)
    with pytest.raises(SchemaTooNew) as raised:
        store.initialize()
    head = migrator.head_revision()
    assert f"revision 9999 unknown; this version knows up to {head}" in raised.value.message
    with pytest.raises(SchemaTooNew):
        store.upgrade()
    with pytest.raises(SchemaTooNew):
        store.audit.count()
    assert store.schema_state().status is SchemaStatus.TOO_NEW
    store.close()

    assert tables(engine) == before
    assert in_transaction(engine, migrator.current_revision) == "9999"
    assert in_transaction(engine, lambda c: c.execute(select(audit_events)).all())


def test_audit_events_are_append_only(uri: str, engine: Engine) -> None:
    with SqlMetadataStore(uri) as store:
        store.initialize()
        store.audit.append(event())
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with SqlMetadataStore(uri) as store:
        (kept,) = store.audit.list_events(AuditQuery()).items
    assert kept.actor == "ana"


def test_concurrent_initialize_creates_the_schema_once(uri: str) -> None:
    stores = [SqlMetadataStore(uri) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            states = list(pool.map(lambda store: store.initialize(), stores))
    finally:
        for store in stores:
            store.close()
    assert {state.status for state in states} == {SchemaStatus.CURRENT}


def test_repos_of_an_uninitialized_store_create_nothing(uri: str, engine: Engine) -> None:
    store = SqlMetadataStore(uri)
    assert store.schema_state().status is SchemaStatus.EMPTY
    with pytest.raises(StoreNotInitialized, match="noria init"):
        store.lineage.add_edges([LineageEdge(DATA, Relation.CONSUMED, MODEL)])
    with pytest.raises(StoreNotInitialized):
        store.audit.append(event())
    store.close()
    assert tables(engine) & {"alembic_version", "lineage_edges", "audit_events"} == set()


def test_initialize_creates_at_head_and_ignores_foreign_tables(uri: str, engine: Engine) -> None:
    in_transaction(engine, lambda c: c.execute(text("CREATE TABLE someone_else (x INTEGER)")))
    with SqlMetadataStore(uri) as store:
        state = store.initialize()
        assert (state.status, state.revision) == (SchemaStatus.CURRENT, migrator.head_revision())
    assert {"someone_else", "lineage_edges", "audit_events"} <= tables(engine)


def test_noria_tables_without_revision_are_not_mistaken_for_empty(uri: str, engine: Engine) -> None:
    in_transaction(engine, lineage_edges.create)
    with SqlMetadataStore(uri) as store, pytest.raises(BackendError, match="no schema revision"):
        store.initialize()


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    assert migrator.migrate(engine).status is SchemaStatus.CURRENT
    assert migrator.downgrade(engine, "base").status is SchemaStatus.EMPTY
    assert tables(engine) <= {"alembic_version"}
    assert migrator.migrate(engine).revision == migrator.head_revision()


def test_migrations_match_the_table_definitions(engine: Engine) -> None:
    migrator.migrate(engine)

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection)
        return [
            diff
            for diff in compare_metadata(context, metadata)
            if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")
        ]

    assert in_transaction(engine, differences) == []


def test_revisions_are_known_in_order() -> None:
    assert migrator.head_revision() == "0013"
    assert migrator.known_revisions() == {f"{n:04d}" for n in range(1, 14)}


# Points as 0003 stored them, in id order: (run, key, value, step, timestamp). Two points
# of "loss" share (step, timestamp): their logging order must survive both ways.
OLD_POINTS = [
    ("r1", "loss", 0.5, 1, 10),
    ("r1", "loss", 0.9, 0, 10),
    ("r1", "acc", None, 0, 10),
    ("r1", "loss", 0.4, 1, 10),
    ("r2", "loss", float("inf"), 3, 30),
]
OLD_LATEST = [
    ("r1", "loss", 0.5, 1, 10),
    ("r1", "acc", None, 0, 10),
    ("r2", "loss", float("inf"), 3, 30),
]


def _insert_0003_metrics(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO runs (id, experiment_id, name, status, start_time, lifecycle_stage, "
            "user_id) VALUES ('r1', '0', 'one', 'RUNNING', 1, 'active', 'ana'), "
            "('r2', '0', 'two', 'FINISHED', 2, 'active', 'ana')"
        )
    )
    connection.execute(text("INSERT INTO params VALUES ('r1', 'lr', '0.1'), ('r2', 'lr', '1')"))
    connection.execute(text("INSERT INTO run_tags VALUES ('r1', 'team', 'vision')"))
    for table, rows in (("metrics", OLD_POINTS), ("latest_metrics", OLD_LATEST)):
        connection.execute(
            text(
                f"INSERT INTO {table} (run_id, key, value, is_nan, step, timestamp) "
                "VALUES (:run, :key, :value, :nan, :step, :ts)"
            ),
            [
                {"run": r, "key": k, "value": v, "nan": v is None, "step": s, "ts": t}
                for r, k, v, s, t in rows
            ],
        )


def test_metric_series_migration_keeps_every_point_in_order(uri: str, engine: Engine) -> None:
    migrator.migrate(engine, "0004")
    in_transaction(engine, _insert_0003_metrics)
    migrator.migrate(engine)

    with SqlMetadataStore(uri) as store:
        loss = store.runs.metric_history("r1", "loss")
        assert list(zip(loss.steps, loss.values, strict=True)) == [(0, 0.9), (1, 0.5), (1, 0.4)]
        assert math.isnan(store.runs.metric_history("r1", "acc").values[0])
        run = store.runs.get_run("r1")
        assert (run.params, run.tags) == ({"lr": "0.1"}, {"team": "vision"})
        assert (run.metrics["loss"].value, run.metrics["loss"].step) == (0.5, 1)
        assert math.isnan(run.metrics["acc"].value)
        assert store.runs.get_run("r2").metrics["loss"].value == float("inf")
        # Numbering goes on after the migrated points: a new equal point comes last.
        store.runs.log_batch("r1", metrics=[Metric("loss", 0.1, 10, 1)])
        loss = store.runs.metric_history("r1", "loss")
        assert loss.values == [0.9, 0.5, 0.4, 0.1]

    migrator.downgrade(engine, "0004")
    order = text("SELECT run_id, key, value, step, timestamp FROM metrics ORDER BY id")
    rows = in_transaction(engine, lambda c: [tuple(row) for row in c.execute(order)])
    by_series = sorted(rows, key=lambda row: (row[0], row[1]))  # stable: keeps id order
    assert by_series == sorted(
        [*OLD_POINTS, ("r1", "loss", 0.1, 1, 10)], key=lambda row: (row[0], row[1])
    )
    kept = text("SELECT run_id, key, value FROM params UNION ALL SELECT * FROM run_tags")
    assert sorted(in_transaction(engine, lambda c: [tuple(row) for row in c.execute(kept)])) == [
        ("r1", "lr", "0.1"),
        ("r1", "team", "vision"),
        ("r2", "lr", "1"),
    ]
    latest = text("SELECT run_id, key, value, is_nan FROM latest_metrics ORDER BY run_id, key")
    assert in_transaction(engine, lambda c: [tuple(row) for row in c.execute(latest)]) == [
        ("r1", "acc", None, True),
        ("r1", "loss", 0.5, False),
        ("r2", "loss", float("inf"), False),
    ]


def test_constructor_does_no_io_and_masks_password(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "noria.db"
    store = SqlMetadataStore(f"sqlite:///{path}")
    assert not path.parent.exists()
    store.close()
    secret = SqlMetadataStore("postgresql://ana:s3cret@db.example:5432/noria")
    assert "s3cret" not in secret.uri
    assert "s3cret" not in repr(secret)
    secret.close()


def test_unreachable_postgres_gives_one_clear_line() -> None:
    store = SqlMetadataStore("postgres://ana:s3cret@127.0.0.1:9/noria")
    with pytest.raises(BackendError) as raised:
        store.initialize()
    message = raised.value.message
    assert message.startswith("Cannot connect to PostgreSQL at 127.0.0.1:9: ")
    assert "\n" not in message
    assert "s3cret" not in message
    store.close()
