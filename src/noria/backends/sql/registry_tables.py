"""Tables of the model registry (migration 0006), on the shared ``MetaData``.

Times are integer milliseconds since the epoch, as MLflow's registry protocol has them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from noria.backends.sql.tables import SERIAL, metadata

MODEL_NAME_LENGTH = 128
ALIAS_LENGTH = 64
TAG_KEY_LENGTH = 250
TAG_VALUE_LENGTH = 5000
SOURCE_LENGTH = 1000
ACTOR_LENGTH = 256


def _cascade(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


registered_models = Table(
    "registered_models",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("name", String(MODEL_NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("policy_json", Text, nullable=False, server_default=""),
    UniqueConstraint("name", name="uq_registered_models_name"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("model_id", SERIAL, _cascade("registered_models.id"), nullable=False),
    Column("key", String(TAG_KEY_LENGTH), nullable=False),
    Column("value", String(TAG_VALUE_LENGTH), nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_registered_model_tags"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("model_id", SERIAL, _cascade("registered_models.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source", String(SOURCE_LENGTH), nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("digest", String(64), nullable=False, server_default=""),
    Column("status", String(32), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_by", String(ACTOR_LENGTH), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("metrics_json", Text, nullable=False, server_default="{}"),
    Column("signature_json", Text, nullable=False, server_default=""),
    Column("gate_passed", Boolean, nullable=True),
    Column("gate_json", Text, nullable=True),
    Column("gate_recorded_at", BigInteger, nullable=True),
    Column("gate_recorded_by", String(ACTOR_LENGTH), nullable=True),
    Column("approved_by", String(ACTOR_LENGTH), nullable=True),
    Column("approved_at", BigInteger, nullable=True),
    UniqueConstraint("model_id", "version", name="uq_model_versions_model_id_version"),
    Index("ix_model_versions_run_id", "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("version_id", SERIAL, _cascade("model_versions.id"), nullable=False),
    Column("key", String(TAG_KEY_LENGTH), nullable=False),
    Column("value", String(TAG_VALUE_LENGTH), nullable=False),
    PrimaryKeyConstraint("version_id", "key", name="pk_model_version_tags"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", SERIAL, _cascade("registered_models.id"), nullable=False),
    Column("alias", String(ALIAS_LENGTH), nullable=False),
    Column("version_id", SERIAL, _cascade("model_versions.id"), nullable=False),
    PrimaryKeyConstraint("model_id", "alias", name="pk_model_aliases"),
    Index("ix_model_aliases_version_id", "version_id"),
)
