"""Tables of MLflow 3 logged models (migration 0007), on the shared ``MetaData``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from noria.backends.sql.tables import metadata

MODEL_ID_LENGTH = 64


def _model_id() -> Column[str]:
    return Column(
        "model_id",
        String(MODEL_ID_LENGTH),
        ForeignKey("logged_models.id", ondelete="CASCADE"),
        nullable=False,
    )


logged_models = Table(
    "logged_models",
    metadata,
    Column("id", String(MODEL_ID_LENGTH), primary_key=True),
    Column("experiment_id", String(32), nullable=False),
    Column("name", String(500), nullable=False),
    Column("source_run_id", String(32), nullable=True),
    Column("model_type", String(500), nullable=False, server_default=""),
    Column("status", String(32), nullable=False),
    Column("status_message", Text, nullable=False, server_default=""),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_logged_models_experiment_id_created_at", "experiment_id", "created_at"),
    Index("ix_logged_models_source_run_id", "source_run_id"),
)


def _entries(name: str, value_length: int) -> Table:
    """A key → value table of one model (its tags, its params)."""
    return Table(
        name,
        metadata,
        _model_id(),
        Column("key", String(250), nullable=False),
        Column("value", String(value_length), nullable=False),
        PrimaryKeyConstraint("model_id", "key", name=f"pk_{name}"),
    )


logged_model_tags = _entries("logged_model_tags", 5000)
logged_model_params = _entries("logged_model_params", 6000)

logged_model_files = Table(
    "logged_model_files",
    metadata,
    _model_id(),
    Column("path", String(1000), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255), nullable=False),
    PrimaryKeyConstraint("model_id", "path", name="pk_logged_model_files"),
)
