"""Tables of schedules, their firings and raised events (migration 0011).

Times are integer milliseconds since the epoch. A firing is unique per (schedule,
occurrence): that constraint, checked in the transaction that claims the firing under the
schedule's row lock, is what makes each occurrence fire once however many schedulers run.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from noria.backends.sql.tables import SERIAL, metadata

ID_LENGTH = 32
NAME_LENGTH = 128
REF_LENGTH = 1000
KIND_LENGTH = 16
CRON_LENGTH = 200
EXECUTOR_LENGTH = 200
ACTOR_LENGTH = 256
OCCURRENCE_LENGTH = 200

schedules = Table(
    "schedules",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("pipeline", String(REF_LENGTH), nullable=False),
    Column("kind", String(KIND_LENGTH), nullable=False),
    Column("cron", String(CRON_LENGTH), nullable=True),
    Column("dataset", String(NAME_LENGTH), nullable=True),
    Column("event", String(NAME_LENGTH), nullable=True),
    Column("params_json", Text, nullable=False),
    Column("executor", String(EXECUTOR_LENGTH), nullable=False),
    Column("cooldown_ms", BigInteger, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(ACTOR_LENGTH), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("active_since", BigInteger, nullable=False),
    Column("cursor", BigInteger, nullable=True),
    Column("last_fired_at", BigInteger, nullable=True),
    Column("last_occurrence", String(OCCURRENCE_LENGTH), nullable=True),
    UniqueConstraint("name", name="uq_schedules_name"),
)

schedule_firings = Table(
    "schedule_firings",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column(
        "schedule_id",
        SERIAL,
        ForeignKey("schedules.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("occurrence", String(OCCURRENCE_LENGTH), nullable=False),
    Column("status", String(KIND_LENGTH), nullable=False),
    Column("fired_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
    Column("scheduler", String(ACTOR_LENGTH), nullable=False),
    Column("pipeline_run_id", String(ID_LENGTH), nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint(
        "schedule_id", "occurrence", name="uq_schedule_firings_schedule_id_occurrence"
    ),
    # Listings are newest first; events look up who answered them.
    Index("ix_schedule_firings_schedule_id_id", "schedule_id", "id"),
    Index("ix_schedule_firings_occurrence", "occurrence"),
)

trigger_events = Table(
    "trigger_events",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("raised_at", BigInteger, nullable=False),
    Column("raised_by", String(ACTOR_LENGTH), nullable=False),
    Index("ix_trigger_events_name_raised_at", "name", "raised_at"),
    Index("ix_trigger_events_raised_at", "raised_at"),
)
