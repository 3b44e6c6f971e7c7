"""Deployments: named routes to model versions with their traffic split.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NAME = sa.String(128)


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("sticky_key", NAME, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.UniqueConstraint("name", name="uq_deployments_name"),
    )
    op.create_table(
        "deployment_routes",
        sa.Column(
            "deployment_id",
            SERIAL,
            sa.ForeignKey(
                "deployments.id",
                ondelete="CASCADE",
                name="fk_deployment_routes_deployment_id_deployments",
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("model_name", NAME, nullable=False),
        sa.Column("model_uri", sa.String(300), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("percent", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "position", name="pk_deployment_routes"),
    )
    op.create_index("ix_deployment_routes_model_name", "deployment_routes", ["model_name"])


def downgrade() -> None:
    for table in ("deployment_routes", "deployments"):
        op.drop_table(table)
