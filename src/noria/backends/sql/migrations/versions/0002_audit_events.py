"""Append-only audit events.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MESSAGE = "audit_events is append-only: events cannot be changed or deleted"

_SQLITE_TRIGGERS = {
    "audit_events_no_update": "UPDATE",
    "audit_events_no_delete": "DELETE",
}

_PG_FUNCTION = f"""
CREATE FUNCTION noria_audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (%)', TG_OP USING ERRCODE = 'restrict_violation';
END
$body$
"""

_PG_TRIGGERS = {
    "audit_events_no_change": "BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW",
    "audit_events_no_truncate": "BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("entity_kind", sa.String(64), nullable=False),
        sa.Column("entity_key", sa.String(512), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_entity", "audit_events", ["entity_kind", "entity_key", "seq"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor", "seq"])
    op.create_index("ix_audit_events_action", "audit_events", ["action", "seq"])
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(sa.text(_PG_FUNCTION))
        for name, when in _PG_TRIGGERS.items():
            op.execute(
                sa.text(
                    f"CREATE TRIGGER {name} {when} "
                    "EXECUTE FUNCTION noria_audit_events_append_only()"
                )
            )
        return
    for name, operation in _SQLITE_TRIGGERS.items():
        op.execute(
            sa.text(
                f"CREATE TRIGGER {name} BEFORE {operation} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name in _PG_TRIGGERS:
            op.execute(sa.text(f"DROP TRIGGER {name} ON audit_events"))
        op.execute(sa.text("DROP FUNCTION noria_audit_events_append_only()"))
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(sa.text(f"DROP TRIGGER {name}"))
    op.drop_index("ix_audit_events_action", table_name="audit_events")
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
    op.drop_table("audit_events")
