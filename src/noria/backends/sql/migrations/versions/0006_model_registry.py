"""Model registry: registered models, versions, their tags, and aliases.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTOR = sa.String(256)


def _fk(column: str, target: str, table: str) -> sa.Column[int]:
    target_table = target.partition(".")[0]
    return sa.Column(
        column,
        SERIAL,
        sa.ForeignKey(target, ondelete="CASCADE", name=f"fk_{table}_{column}_{target_table}"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_registered_models"),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    op.create_table(
        "registered_model_tags",
        _fk("model_id", "registered_models.id", "registered_model_tags"),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(5000), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_registered_model_tags"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        _fk("model_id", "registered_models.id", "model_versions"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False, server_default=""),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", ACTOR, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("metrics_json", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("signature_json", sa.Text(), nullable=False, server_default=""),
        sa.Column("gate_passed", sa.Boolean(), nullable=True),
        sa.Column("gate_json", sa.Text(), nullable=True),
        sa.Column("gate_recorded_at", sa.BigInteger(), nullable=True),
        sa.Column("gate_recorded_by", ACTOR, nullable=True),
        sa.Column("approved_by", ACTOR, nullable=True),
        sa.Column("approved_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.UniqueConstraint("model_id", "version", name="uq_model_versions_model_id_version"),
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        _fk("version_id", "model_versions.id", "model_version_tags"),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.String(5000), nullable=False),
        sa.PrimaryKeyConstraint("version_id", "key", name="pk_model_version_tags"),
    )
    op.create_table(
        "model_aliases",
        _fk("model_id", "registered_models.id", "model_aliases"),
        sa.Column("alias", sa.String(64), nullable=False),
        _fk("version_id", "model_versions.id", "model_aliases"),
        sa.PrimaryKeyConstraint("model_id", "alias", name="pk_model_aliases"),
    )
    op.create_index("ix_model_aliases_version_id", "model_aliases", ["version_id"])


def downgrade() -> None:
    for table in (
        "model_aliases",
        "model_version_tags",
        "model_versions",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
