"""Schedules: cron, dataset and event triggers of pipelines, their firings, raised events.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NAME = sa.String(128)
SHORT = sa.String(16)
ACTOR = sa.String(256)
OCCURRENCE = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("pipeline", sa.String(1000), nullable=False),
        sa.Column("kind", SHORT, nullable=False),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("dataset", NAME, nullable=True),
        sa.Column("event", NAME, nullable=True),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("executor", sa.String(200), nullable=False),
        sa.Column("cooldown_ms", sa.BigInteger(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", ACTOR, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("active_since", sa.BigInteger(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=True),
        sa.Column("last_fired_at", sa.BigInteger(), nullable=True),
        sa.Column("last_occurrence", OCCURRENCE, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        sa.UniqueConstraint("name", name="uq_schedules_name"),
    )
    op.create_table(
        "schedule_firings",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column(
            "schedule_id",
            SERIAL,
            sa.ForeignKey(
                "schedules.id", ondelete="CASCADE", name="fk_schedule_firings_schedule_id_schedules"
            ),
            nullable=False,
        ),
        sa.Column("occurrence", OCCURRENCE, nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("fired_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("scheduler", ACTOR, nullable=False),
        sa.Column("pipeline_run_id", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_firings"),
        sa.UniqueConstraint(
            "schedule_id", "occurrence", name="uq_schedule_firings_schedule_id_occurrence"
        ),
    )
    op.create_index("ix_schedule_firings_schedule_id_id", "schedule_firings", ["schedule_id", "id"])
    op.create_index("ix_schedule_firings_occurrence", "schedule_firings", ["occurrence"])
    op.create_table(
        "trigger_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.BigInteger(), nullable=False),
        sa.Column("raised_by", ACTOR, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trigger_events"),
    )
    op.create_index("ix_trigger_events_name_raised_at", "trigger_events", ["name", "raised_at"])
    op.create_index("ix_trigger_events_raised_at", "trigger_events", ["raised_at"])


def downgrade() -> None:
    for table in ("trigger_events", "schedule_firings", "schedules"):
        op.drop_table(table)
