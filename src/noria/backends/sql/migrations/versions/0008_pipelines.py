"""Pipelines: pipeline runs, step runs and the step cache.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
ID = sa.String(32)
NAME = sa.String(128)
STATUS = sa.String(16)


def upgrade() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("pipeline", NAME, nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("executor", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("tracking_run_id", ID, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_runs"),
    )
    op.create_index("ix_pipeline_runs_started_at", "pipeline_runs", ["started_at"])
    op.create_index("ix_pipeline_runs_pipeline", "pipeline_runs", ["pipeline", "started_at"])
    op.create_table(
        "step_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "pipeline_run_id",
            ID,
            sa.ForeignKey(
                "pipeline_runs.id",
                ondelete="CASCADE",
                name="fk_step_runs_pipeline_run_id_pipeline_runs",
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("step_ref", sa.String(1000), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("upstream_json", sa.Text(), nullable=False),
        sa.Column("cache_key", sa.String(64), nullable=True),
        sa.Column("cache_hit", sa.Boolean(), nullable=False),
        sa.Column("cached_from", ID, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("inputs_json", sa.Text(), nullable=False),
        sa.Column("outputs_json", sa.Text(), nullable=False),
        sa.Column("logs_digest", sa.String(71), nullable=True),
        sa.Column("tracking_run_id", ID, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_step_runs"),
        sa.UniqueConstraint("pipeline_run_id", "name", name="uq_step_runs_pipeline_run_id_name"),
    )
    op.create_table(
        "pipeline_cache",
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column("pipeline", NAME, nullable=False),
        sa.Column("step_name", NAME, nullable=False),
        sa.Column("step_run_id", ID, nullable=False),
        sa.Column("outputs_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cache_key", name="pk_pipeline_cache"),
    )
    op.create_index(
        "ix_pipeline_cache_pipeline_step_name", "pipeline_cache", ["pipeline", "step_name"]
    )
    op.create_index("ix_pipeline_cache_step_name", "pipeline_cache", ["step_name"])


def downgrade() -> None:
    for table in ("pipeline_cache", "step_runs", "pipeline_runs"):
        op.drop_table(table)
