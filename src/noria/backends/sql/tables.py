"""Table definitions of the SQL metadata store, and how values are encoded in them.

The migrations in ``migrations/versions`` create these tables; a test checks that
the two agree. Times are stored as integer microseconds since the Unix epoch (UTC)
so that both databases keep full precision and compare them cheaply; the tracking
tables use milliseconds instead, as MLflow's protocol does.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql, sqlite

from noria.errors import InvalidArgument

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KIND_LENGTH = 64
KEY_LENGTH = 512
RELATION_LENGTH = 64
ACTOR_LENGTH = 256
ACTION_LENGTH = 128

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
SERIAL = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("upstream_kind", String(KIND_LENGTH), nullable=False),
    Column("upstream_key", String(KEY_LENGTH), nullable=False),
    Column("relation", String(RELATION_LENGTH), nullable=False),
    Column("downstream_kind", String(KIND_LENGTH), nullable=False),
    Column("downstream_key", String(KEY_LENGTH), nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    # Leads with the upstream side, so it also serves downstream walks.
    UniqueConstraint(
        "upstream_kind",
        "upstream_key",
        "relation",
        "downstream_kind",
        "downstream_key",
        name="uq_lineage_edges_identity",
    ),
    Index("ix_lineage_edges_downstream", "downstream_kind", "downstream_key"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", SERIAL, primary_key=True, autoincrement=True),
    Column("occurred_at", BigInteger, nullable=False),
    Column("actor", String(ACTOR_LENGTH), nullable=False),
    Column("action", String(ACTION_LENGTH), nullable=False),
    Column("entity_kind", String(KIND_LENGTH), nullable=False),
    Column("entity_key", String(KEY_LENGTH), nullable=False),
    Column("before_json", Text, nullable=True),
    Column("after_json", Text, nullable=True),
    # Every filter is paired with seq, so newest-first pages come from the index.
    Index("ix_audit_events_entity", "entity_kind", "entity_key", "seq"),
    Index("ix_audit_events_actor", "actor", "seq"),
    Index("ix_audit_events_action", "action", "seq"),
)

# -- tracking (migrations 0003 and 0005). Times here are integer milliseconds, as MLflow
# has them.

ID_LENGTH = 32
STAGE_LENGTH = 16
TRACKING_KEY_LENGTH = 250
NAME_LENGTH = 500
PARAM_VALUE_LENGTH = 6000
TAG_VALUE_LENGTH = 8000


def _run_fk() -> ForeignKey:
    # Runs are only soft-deleted; CASCADE serves a future garbage collection.
    return ForeignKey("runs.id", ondelete="CASCADE")


experiments = Table(
    "experiments",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("artifact_location", String(1000), nullable=False, server_default=""),
    Column("lifecycle_stage", String(STAGE_LENGTH), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    UniqueConstraint("name", name="uq_experiments_name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        String(ID_LENGTH),
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(TRACKING_KEY_LENGTH), nullable=False),
    Column("value", String(TAG_VALUE_LENGTH), nullable=False),
    PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("experiment_id", String(ID_LENGTH), ForeignKey("experiments.id"), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("status", String(STAGE_LENGTH), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("lifecycle_stage", String(STAGE_LENGTH), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("parent_id", String(ID_LENGTH), nullable=True),
    Column("deleted_time", BigInteger, nullable=True),
    # Searches filter by experiment and stage and sort newest first.
    Index("ix_runs_experiment", "experiment_id", "lifecycle_stage", "start_time"),
    Index("ix_runs_name", "name"),
    Index("ix_runs_parent_id", "parent_id"),
)

# Params, tags and metric series are read by (run_id, key): WITHOUT ROWID on SQLite
# (migration 0005) stores each row in its primary key's B-tree, so a lookup is one
# descent instead of an index entry and then a row, which made a filtered search of
# 2,000 runs a third faster.
params = Table(
    "params",
    metadata,
    Column("run_id", String(ID_LENGTH), _run_fk(), nullable=False),
    Column("key", String(TRACKING_KEY_LENGTH), nullable=False),
    Column("value", String(PARAM_VALUE_LENGTH), nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_params"),
    sqlite_with_rowid=False,
)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", String(ID_LENGTH), _run_fk(), nullable=False),
    Column("key", String(TRACKING_KEY_LENGTH), nullable=False),
    Column("value", String(TAG_VALUE_LENGTH), nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_run_tags"),
    sqlite_with_rowid=False,
)

# One row per metric series (a run's key): its id, how many points it holds (which
# numbers the next ones) and its latest point, the one with the greatest (step,
# timestamp, value), NaN lowest. Search filters and sorts on the (key, value) index.
# NaN is stored as value NULL, because SQLite turns NaN into NULL anyway; ±inf are
# ordinary floats on both databases. The id comes from an identity on PostgreSQL; on
# SQLite, which has none outside rowid tables, the writer (which holds the database's
# only write lock) numbers new series itself.
metric_series = Table(
    "metric_series",
    metadata,
    Column("id", BigInteger, Identity(), nullable=False),
    Column("run_id", String(ID_LENGTH), _run_fk(), nullable=False),
    Column("key", String(TRACKING_KEY_LENGTH), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("value", Double, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_metric_series"),
    UniqueConstraint("id", name="uq_metric_series_id"),
    Index("ix_metric_series_key_value", "key", "value"),
    sqlite_with_rowid=False,
)

# Every point, append-only, clustered by series and (step, timestamp): storing a point
# is one B-tree insert (no rowid table beside an index on SQLite), and a history is one
# ordered range read. ``seq`` numbers a series' points in the order they were logged,
# which keeps equal (step, timestamp) points apart and in that order. No foreign key:
# checking it cost a lookup per point (15% of a batch); the series row is written in the
# same transaction, and a purge of runs must delete their points by series id itself.
metric_points = Table(
    "metric_points",
    metadata,
    Column("series_id", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("value", Double, nullable=True),
    PrimaryKeyConstraint("series_id", "step", "timestamp", "seq", name="pk_metric_points"),
    sqlite_with_rowid=False,
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("run_id", String(ID_LENGTH), _run_fk(), nullable=False),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("source_type", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text, nullable=False),
    Column("profile", Text, nullable=False),
    Column("context", String(64), nullable=False),
    UniqueConstraint("run_id", "name", "digest", "context", name="uq_run_inputs_identity"),
)

run_artifacts = Table(
    "run_artifacts",
    metadata,
    Column("run_id", String(ID_LENGTH), _run_fk(), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255), nullable=False),
    PrimaryKeyConstraint("run_id", "path", name="pk_run_artifacts"),
)

NORIA_TABLES = frozenset(metadata.tables)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_epoch_us(moment: datetime, what: str) -> int:
    """Exact microseconds since the epoch; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidArgument(
            f"{what} {moment.isoformat()} has no timezone: pass an aware datetime, "
            "e.g. datetime.now(timezone.utc)."
        )
    return (moment - _EPOCH) // _MICROSECOND


def from_epoch_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def now_ms() -> int:
    """The current time in the tracking tables' unit: milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def dialect_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can take ``ON CONFLICT`` clauses on the connection's database."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
