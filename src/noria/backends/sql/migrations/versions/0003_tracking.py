"""Experiment tracking: experiments, runs, params, tags, metrics, inputs, run artifacts.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(32)
KEY = sa.String(250)
STAGE = sa.String(16)


def _run_id() -> sa.Column[str]:
    return sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    _create_experiments()
    _create_runs()
    _create_run_values()
    _create_metrics()
    _create_run_data()
    _insert_default_experiment()


def _create_experiments() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(1000), nullable=False, server_default=""),
        sa.Column("lifecycle_stage", STAGE, nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            ID,
            sa.ForeignKey(
                "experiments.id",
                ondelete="CASCADE",
                name="fk_experiment_tags_experiment_id_experiments",
            ),
            nullable=False,
        ),
        sa.Column("key", KEY, nullable=False),
        sa.Column("value", sa.String(8000), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
    )


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "experiment_id",
            ID,
            sa.ForeignKey("experiments.id", name="fk_runs_experiment_id_experiments"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("status", STAGE, nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("lifecycle_stage", STAGE, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index(
        "ix_runs_experiment", "runs", ["experiment_id", "lifecycle_stage", "start_time"]
    )
    op.create_index("ix_runs_name", "runs", ["name"])
    op.create_index("ix_runs_parent_id", "runs", ["parent_id"])


def _fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["runs.id"], ondelete="CASCADE", name=f"fk_{table}_run_id_runs"
    )


def _create_run_values() -> None:
    for table, value_length in (("params", 6000), ("run_tags", 8000)):
        op.create_table(
            table,
            sa.Column("run_id", ID, nullable=False),
            sa.Column("key", KEY, nullable=False),
            sa.Column("value", sa.String(value_length), nullable=False),
            _fk(table),
            sa.PrimaryKeyConstraint("run_id", "key", name=f"pk_{table}"),
        )


def _metric_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
    ]


def _create_metrics() -> None:
    op.create_table(
        "metrics",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        *_metric_columns(),
        _fk("metrics"),
        sa.PrimaryKeyConstraint("id", name="pk_metrics"),
    )
    op.create_index("ix_metrics_series", "metrics", ["run_id", "key", "step", "timestamp"])
    op.create_table(
        "latest_metrics",
        *_metric_columns(),
        _fk("latest_metrics"),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])


def _create_run_data() -> None:
    op.create_table(
        "run_inputs",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("source_type", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("context", sa.String(64), nullable=False),
        _fk("run_inputs"),
        sa.PrimaryKeyConstraint("id", name="pk_run_inputs"),
        sa.UniqueConstraint("run_id", "name", "digest", "context", name="uq_run_inputs_identity"),
    )
    op.create_table(
        "run_artifacts",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        _fk("run_artifacts"),
        sa.PrimaryKeyConstraint("run_id", "path", name="pk_run_artifacts"),
    )


def _insert_default_experiment() -> None:
    now = time.time_ns() // 1_000_000
    table = sa.table(
        "experiments",
        sa.column("id", ID),
        sa.column("name", sa.String()),
        sa.column("artifact_location", sa.String()),
        sa.column("lifecycle_stage", STAGE),
        sa.column("creation_time", sa.BigInteger()),
        sa.column("last_update_time", sa.BigInteger()),
    )
    op.bulk_insert(
        table,
        [
            {
                "id": "0",
                "name": "Default",
                "artifact_location": "",
                "lifecycle_stage": "active",
                "creation_time": now,
                "last_update_time": now,
            }
        ],
    )


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes too.
    for table in (
        "run_artifacts",
        "run_inputs",
        "latest_metrics",
        "metrics",
        "run_tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
