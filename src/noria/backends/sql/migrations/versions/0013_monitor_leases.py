"""Monitors: a lease, so that one process at a time evaluates a monitor.

Two schedulers (or a scheduler and ``noria monitor run``) evaluating one monitor at once
would each fire its alerts' actions. A run first takes the lease (owner, expiry); a lease
left by a crashed process expires.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Plain ALTERs: a batch copy of the table on SQLite would cascade-delete its results.
    op.add_column("monitors", sa.Column("lease_owner", sa.String(128), nullable=True))
    op.add_column("monitors", sa.Column("lease_until", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("monitors", "lease_until")
    op.drop_column("monitors", "lease_owner")
