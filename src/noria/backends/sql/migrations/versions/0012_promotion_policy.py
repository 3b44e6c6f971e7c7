"""Deployments: the promotion policy (when a challenger replaces the primary), as JSON.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable: existing deployments have no policy, and never promote on their own. A
    # plain ALTER on both databases: a batch copy of the table on SQLite would cascade-delete
    # the routes that reference it.
    op.add_column("deployments", sa.Column("promotion_policy", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("deployments", "promotion_policy")
