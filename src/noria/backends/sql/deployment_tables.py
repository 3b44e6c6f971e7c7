"""Tables of the deployment records (migration 0009; 0012 adds the promotion policy), on
the shared ``MetaData``.

Times are integer milliseconds since the epoch, as in the registry tables. Routes are rows
of their own, with the model's name in a column, so "which deployments use model X" is one
indexed query (the registry asks it before deleting a version).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
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

NAME_LENGTH = 128
MODEL_URI_LENGTH = 300  # 'models:/' + a 128-character name + '@' + a 64-character alias
ROLE_LENGTH = 16
STATUS_LENGTH = 16
ACTOR_LENGTH = 256

deployments = Table(
    "deployments",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("sticky_key", String(NAME_LENGTH), nullable=True),
    Column("status", String(STATUS_LENGTH), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_by", String(ACTOR_LENGTH), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("promotion_policy", Text, nullable=True),  # JSON (migration 0012)
    UniqueConstraint("name", name="uq_deployments_name"),
)

deployment_routes = Table(
    "deployment_routes",
    metadata,
    Column(
        "deployment_id",
        SERIAL,
        ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),  # the order the deployment lists them
    Column("model_name", String(NAME_LENGTH), nullable=False),
    Column("model_uri", String(MODEL_URI_LENGTH), nullable=False),
    Column("role", String(ROLE_LENGTH), nullable=False),
    Column("percent", Double, nullable=False),
    PrimaryKeyConstraint("deployment_id", "position", name="pk_deployment_routes"),
    Index("ix_deployment_routes_model_name", "model_name"),
)
