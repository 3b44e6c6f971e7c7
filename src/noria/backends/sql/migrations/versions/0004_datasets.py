"""Dataset catalogue: datasets, their content-addressed versions, schema revisions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies of the column types: migrations never import the live tables module.
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DIGEST = sa.String(64)
ACTOR = sa.String(256)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column(
            "dataset_id",
            SERIAL,
            sa.ForeignKey(
                "datasets.id", ondelete="CASCADE", name="fk_dataset_versions_dataset_id_datasets"
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", DIGEST, nullable=False),
        sa.Column("data_digest", DIGEST, nullable=False),
        sa.Column("profile_digest", DIGEST, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("columns_json", sa.Text(), nullable=False),
        sa.Column("source_type", sa.String(16), nullable=False),
        sa.Column("source", sa.String(2000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", ACTOR, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_versions"),
        sa.UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_dataset_id_version"),
        sa.UniqueConstraint("dataset_id", "digest", name="uq_dataset_versions_dataset_id_digest"),
    )
    op.create_table(
        "dataset_schemas",
        sa.Column(
            "version_id",
            SERIAL,
            sa.ForeignKey(
                "dataset_versions.id",
                ondelete="CASCADE",
                name="fk_dataset_schemas_version_id_dataset_versions",
            ),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("digest", DIGEST, nullable=False),
        sa.Column("created_by", ACTOR, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("version_id", "revision", name="pk_dataset_schemas"),
    )


def downgrade() -> None:
    op.drop_table("dataset_schemas")
    op.drop_table("dataset_versions")
    op.drop_table("datasets")
