"""Monitors: watched deployments, per-window results as time series, and alerts.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NAME = sa.String(128)
FIGURE = sa.String(400)
SHORT = sa.String(16)


def _monitor_id(table: str) -> sa.Column[int]:
    return sa.Column(
        "monitor_id",
        SERIAL,
        sa.ForeignKey("monitors.id", ondelete="CASCADE", name=f"fk_{table}_monitor_id_monitors"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("deployment", NAME, nullable=False),
        sa.Column("reference", sa.String(300), nullable=False),
        sa.Column("window_ms", sa.BigInteger(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("delay_ms", sa.BigInteger(), nullable=False),
        sa.Column("label_horizon_ms", sa.BigInteger(), nullable=False),
        sa.Column("label_column", FIGURE, nullable=True),
        sa.Column("task", SHORT, nullable=True),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitors"),
        sa.UniqueConstraint("name", name="uq_monitors_name"),
    )
    op.create_index("ix_monitors_deployment", "monitors", ["deployment"])
    op.create_table(
        "monitor_results",
        _monitor_id("monitor_results"),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("label_count", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("monitor_id", "window_start", name="pk_monitor_results"),
    )
    op.create_table(
        "monitor_figures",
        _monitor_id("monitor_figures"),
        sa.Column("figure", FIGURE, nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("monitor_id", "figure", "window_start", name="pk_monitor_figures"),
    )
    op.create_index(
        "ix_monitor_figures_monitor_id_window_start",
        "monitor_figures",
        ["monitor_id", "window_start"],
    )
    _create_alerts()


def _create_alerts() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), nullable=False),
        _monitor_id("alerts"),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("figure", FIGURE, nullable=False),
        sa.Column("operator", SHORT, nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("severity", SHORT, nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("last_window_end", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.Double(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("resolved_window_end", sa.BigInteger(), nullable=True),
        sa.Column("fired_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index(
        "ix_alerts_monitor_id_rule_window_end", "alerts", ["monitor_id", "rule", "window_end"]
    )
    op.create_index("ix_alerts_monitor_id_window_end", "alerts", ["monitor_id", "window_end"])


def downgrade() -> None:
    for table in ("alerts", "monitor_figures", "monitor_results", "monitors"):
        op.drop_table(table)
