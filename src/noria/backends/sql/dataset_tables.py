"""Tables of the dataset catalogue (migration 0004), on the shared ``MetaData``.

Times are integer microseconds since the epoch, as in the foundation's tables.
"""

from __future__ import annotations

import time

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from noria.backends.sql.tables import SERIAL, metadata

DATASET_NAME_LENGTH = 128
DIGEST_LENGTH = 64
ACTOR_LENGTH = 256
SOURCE_TYPE_LENGTH = 16
SOURCE_LENGTH = 2000
NOTE_LENGTH = 1000

datasets = Table(
    "datasets",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("name", String(DATASET_NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("name", name="uq_datasets_name"),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("dataset_id", SERIAL, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("digest", String(DIGEST_LENGTH), nullable=False),
    Column("data_digest", String(DIGEST_LENGTH), nullable=False),
    Column("profile_digest", String(DIGEST_LENGTH), nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("columns_json", Text, nullable=False),
    Column("source_type", String(SOURCE_TYPE_LENGTH), nullable=False),
    Column("source", String(SOURCE_LENGTH), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_by", String(ACTOR_LENGTH), nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_dataset_id_version"),
    # One version per content: the second ingest of the same rows finds the first.
    UniqueConstraint("dataset_id", "digest", name="uq_dataset_versions_dataset_id_digest"),
)

dataset_schemas = Table(
    "dataset_schemas",
    metadata,
    Column(
        "version_id",
        SERIAL,
        ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("revision", Integer, nullable=False),
    Column("digest", String(DIGEST_LENGTH), nullable=False),
    Column("created_by", String(ACTOR_LENGTH), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("note", String(NOTE_LENGTH), nullable=False, server_default=""),
    PrimaryKeyConstraint("version_id", "revision", name="pk_dataset_schemas"),
)


def now_us() -> int:
    """The current time in these tables' unit: microseconds since the epoch."""
    return time.time_ns() // 1000
