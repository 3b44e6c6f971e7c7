"""Tables of the pipeline records (migration 0008), on the shared ``MetaData``.

Times are integer milliseconds since the epoch, as in the tracking tables. Inputs,
outputs and params are JSON text: they are read whole with their row, never queried.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from noria.backends.sql.tables import metadata

ID_LENGTH = 32
NAME_LENGTH = 128
STATUS_LENGTH = 16
EXECUTOR_LENGTH = 200
STEP_REF_LENGTH = 1000
ACTOR_LENGTH = 256
CACHE_KEY_LENGTH = 64
DIGEST_LENGTH = 71  # 'sha256:' + 64 hex

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("pipeline", String(NAME_LENGTH), nullable=False),
    Column("status", String(STATUS_LENGTH), nullable=False),
    Column("params_json", Text, nullable=False),
    Column("executor", String(EXECUTOR_LENGTH), nullable=False),
    Column("created_by", String(ACTOR_LENGTH), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
    Column("tracking_run_id", String(ID_LENGTH), nullable=True),
    Column("error", Text, nullable=True),
    # Listings are newest first, over all runs or one pipeline's.
    Index("ix_pipeline_runs_started_at", "started_at"),
    Index("ix_pipeline_runs_pipeline", "pipeline", "started_at"),
)

step_runs = Table(
    "step_runs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column(
        "pipeline_run_id",
        String(ID_LENGTH),
        ForeignKey("pipeline_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),  # declaration order within the run
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("step_ref", String(STEP_REF_LENGTH), nullable=False),
    Column("status", String(STATUS_LENGTH), nullable=False),
    Column("upstream_json", Text, nullable=False),
    Column("cache_key", String(CACHE_KEY_LENGTH), nullable=True),
    Column("cache_hit", Boolean, nullable=False),
    Column("cached_from", String(ID_LENGTH), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("ended_at", BigInteger, nullable=True),
    Column("inputs_json", Text, nullable=False),
    Column("outputs_json", Text, nullable=False),
    Column("logs_digest", String(DIGEST_LENGTH), nullable=True),
    Column("tracking_run_id", String(ID_LENGTH), nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("pipeline_run_id", "name", name="uq_step_runs_pipeline_run_id_name"),
)

# One row per cache key: the newest result stored under it. Clearing the cache deletes
# rows here; the step runs that made them stay as history.
pipeline_cache = Table(
    "pipeline_cache",
    metadata,
    Column("cache_key", String(CACHE_KEY_LENGTH), primary_key=True),
    Column("pipeline", String(NAME_LENGTH), nullable=False),
    Column("step_name", String(NAME_LENGTH), nullable=False),
    Column("step_run_id", String(ID_LENGTH), nullable=False),
    Column("outputs_json", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_pipeline_cache_pipeline_step_name", "pipeline", "step_name"),
    Index("ix_pipeline_cache_step_name", "step_name"),
)
