"""Lineage edges between entities.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copy of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lineage_edges",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("upstream_kind", sa.String(64), nullable=False),
        sa.Column("upstream_key", sa.String(512), nullable=False),
        sa.Column("relation", sa.String(64), nullable=False),
        sa.Column("downstream_kind", sa.String(64), nullable=False),
        sa.Column("downstream_key", sa.String(512), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lineage_edges"),
        sa.UniqueConstraint(
            "upstream_kind",
            "upstream_key",
            "relation",
            "downstream_kind",
            "downstream_key",
            name="uq_lineage_edges_identity",
        ),
    )
    op.create_index(
        "ix_lineage_edges_downstream", "lineage_edges", ["downstream_kind", "downstream_key"]
    )


def downgrade() -> None:
    op.drop_index("ix_lineage_edges_downstream", table_name="lineage_edges")
    op.drop_table("lineage_edges")
