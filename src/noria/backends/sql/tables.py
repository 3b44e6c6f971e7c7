"""Table definitions of the SQL metadata store, and how values are encoded in them.

The migrations in ``migrations/versions`` create these tables; a test checks that
the two agree. Times are stored as integer microseconds since the Unix epoch (UTC)
so that both databases keep full precision and compare them cheaply.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from noria.errors import InvalidArgument

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KIND_LENGTH = 64
KEY_LENGTH = 512
RELATION_LENGTH = 64
ACTOR_LENGTH = 256
ACTION_LENGTH = 128

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
SERIAL = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("upstream_kind", String(KIND_LENGTH), nullable=False),
    Column("upstream_key", String(KEY_LENGTH), nullable=False),
    Column("relation", String(RELATION_LENGTH), nullable=False),
    Column("downstream_kind", String(KIND_LENGTH), nullable=False),
    Column("downstream_key", String(KEY_LENGTH), nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    # Leads with the upstream side, so it also serves downstream walks.
    UniqueConstraint(
        "upstream_kind",
        "upstream_key",
        "relation",
        "downstream_kind",
        "downstream_key",
        name="uq_lineage_edges_identity",
    ),
    Index("ix_lineage_edges_downstream", "downstream_kind", "downstream_key"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", SERIAL, primary_key=True, autoincrement=True),
    Column("occurred_at", BigInteger, nullable=False),
    Column("actor", String(ACTOR_LENGTH), nullable=False),
    Column("action", String(ACTION_LENGTH), nullable=False),
    Column("entity_kind", String(KIND_LENGTH), nullable=False),
    Column("entity_key", String(KEY_LENGTH), nullable=False),
    Column("before_json", Text, nullable=True),
    Column("after_json", Text, nullable=True),
    # Every filter is paired with seq, so newest-first pages come from the index.
    Index("ix_audit_events_entity", "entity_kind", "entity_key", "seq"),
    Index("ix_audit_events_actor", "actor", "seq"),
    Index("ix_audit_events_action", "action", "seq"),
)

NORIA_TABLES = frozenset(metadata.tables)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_epoch_us(moment: datetime, what: str) -> int:
    """Exact microseconds since the epoch; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidArgument(
            f"{what} {moment.isoformat()} has no timezone: pass an aware datetime, "
            "e.g. datetime.now(timezone.utc)."
        )
    return (moment - _EPOCH) // _MICROSECOND


def from_epoch_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)
