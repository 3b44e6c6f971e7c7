"""Metric series and points: a series id per (run, key), points clustered by series.

``latest_metrics`` becomes ``metric_series`` (an id and a point count per run and key,
beside the latest point), and ``metrics`` becomes ``metric_points``, keyed by
(series_id, step, timestamp, seq), so that storing a point is one B-tree insert instead
of a row plus an index entry; it has no foreign key, whose check cost a lookup per
point. The redundant ``is_nan`` columns go: a NULL value is NaN. Every stored point is
copied, in its order. On SQLite, ``metric_series``, ``metric_points``, ``params`` and
``run_tags`` are WITHOUT ROWID tables: what is read by key is stored in the key's
B-tree. (PostgreSQL has no such choice; its tables are only copied into the new shape.)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(32)
KEY = sa.String(250)


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"], ["runs.id"], ondelete="CASCADE", name=f"fk_{table}_run_id_runs"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "metric_series",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        _run_fk("metric_series"),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_metric_series"),
        sa.UniqueConstraint("id", name="uq_metric_series_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_metric_series_key_value", "metric_series", ["key", "value"])
    op.create_table(
        "metric_points",
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("series_id", "step", "timestamp", "seq", name="pk_metric_points"),
        sqlite_with_rowid=False,
    )
    # Every latest point has a series; the count numbers that series' next points.
    # PostgreSQL's identity numbers the series; SQLite's are numbered here.
    id_column, id_value = (
        ("id, ", "row_number() OVER (ORDER BY l.run_id, l.key), ") if sqlite else ("", "")
    )
    op.execute(
        f'INSERT INTO metric_series ({id_column}run_id, key, points, value, step, "timestamp") '
        f"SELECT {id_value}l.run_id, l.key, (SELECT count(*) FROM metrics m "
        'WHERE m.run_id = l.run_id AND m.key = l.key), l.value, l.step, l."timestamp" '
        "FROM latest_metrics l ORDER BY l.run_id, l.key"
    )
    # seq keeps the logging order that metrics.id gave, from 0 within each series.
    op.execute(
        'INSERT INTO metric_points (series_id, step, "timestamp", seq, value) '
        'SELECT s.id, m.step, m."timestamp", '
        "row_number() OVER (PARTITION BY m.run_id, m.key ORDER BY m.id) - 1, m.value "
        "FROM metrics m JOIN metric_series s ON s.run_id = m.run_id AND s.key = m.key"
    )
    op.drop_table("metrics")
    op.drop_table("latest_metrics")
    if sqlite:
        _recreate(("params", "run_tags"), with_rowid=False)


def _recreate(tables: tuple[str, ...], *, with_rowid: bool) -> None:
    """Copy SQLite tables into new ones with or without rowid (SQLite cannot alter that)."""
    for table in tables:
        kwargs = {"sqlite_with_rowid": with_rowid}
        with op.batch_alter_table(table, recreate="always", table_kwargs=kwargs):
            pass


def _metric_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
    ]


def downgrade() -> None:
    """Back to 0003's ``metrics`` and ``latest_metrics``, every point kept in its order."""
    if op.get_bind().dialect.name == "sqlite":
        _recreate(("params", "run_tags"), with_rowid=True)
    op.create_table(
        "metrics",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        *_metric_columns(),
        _run_fk("metrics"),
        sa.PrimaryKeyConstraint("id", name="pk_metrics"),
    )
    op.create_index("ix_metrics_series", "metrics", ["run_id", "key", "step", "timestamp"])
    op.create_table(
        "latest_metrics",
        *_metric_columns(),
        _run_fk("latest_metrics"),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    op.execute(
        'INSERT INTO metrics (run_id, key, value, is_nan, step, "timestamp") '
        'SELECT s.run_id, s.key, p.value, p.value IS NULL, p.step, p."timestamp" '
        "FROM metric_points p JOIN metric_series s ON s.id = p.series_id "
        "ORDER BY p.series_id, p.seq"
    )
    op.execute(
        'INSERT INTO latest_metrics (run_id, key, value, is_nan, step, "timestamp") '
        'SELECT run_id, key, value, value IS NULL, step, "timestamp" FROM metric_series'
    )
    op.drop_table("metric_points")
    op.drop_table("metric_series")
