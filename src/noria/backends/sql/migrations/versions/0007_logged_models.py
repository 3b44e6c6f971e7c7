"""MLflow 3 logged models: a model logged on its own, with its tags, params and files.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
MODEL_ID = sa.String(64)


def _model_fk(table: str) -> sa.Column[str]:
    return sa.Column(
        "model_id",
        MODEL_ID,
        sa.ForeignKey(
            "logged_models.id", ondelete="CASCADE", name=f"fk_{table}_model_id_logged_models"
        ),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("id", MODEL_ID, nullable=False),
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("source_run_id", sa.String(32), nullable=True),
        sa.Column("model_type", sa.String(500), nullable=False, server_default=""),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False, server_default=""),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_logged_models"),
    )
    op.create_index(
        "ix_logged_models_experiment_id_created_at",
        "logged_models",
        ["experiment_id", "created_at"],
    )
    op.create_index("ix_logged_models_source_run_id", "logged_models", ["source_run_id"])
    for table, value in (("logged_model_tags", 5000), ("logged_model_params", 6000)):
        op.create_table(
            table,
            _model_fk(table),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.String(value), nullable=False),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{table}"),
        )
    op.create_table(
        "logged_model_files",
        _model_fk("logged_model_files"),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "path", name="pk_logged_model_files"),
    )


def downgrade() -> None:
    for table in ("logged_model_files", "logged_model_params", "logged_model_tags"):
        op.drop_table(table)
    op.drop_index("ix_logged_models_source_run_id", table_name="logged_models")
    op.drop_index("ix_logged_models_experiment_id_created_at", table_name="logged_models")
    op.drop_table("logged_models")
