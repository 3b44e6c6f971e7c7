"""Reading registry rows into domain objects, with their tags and aliases, a page at a time."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select

from noria.backends.sql.registry_tables import (
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from noria.domain.registry import (
    ApprovalPolicy,
    GateRecord,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
)
from noria.errors import NotFound

_m = registered_models.c
_v = model_versions.c
_a = model_aliases.c


def policy_to_json(policy: ApprovalPolicy) -> str:
    if not policy.enabled:
        return ""
    return json.dumps(
        {
            "protected_aliases": list(policy.protected_aliases),
            "require_gate": policy.require_gate,
            "require_approval": policy.require_approval,
        }
    )


def policy_from_json(text: str) -> ApprovalPolicy:
    if not text:
        return ApprovalPolicy()
    data = json.loads(text)
    return ApprovalPolicy(
        protected_aliases=tuple(data["protected_aliases"]),
        require_gate=data["require_gate"],
        require_approval=data["require_approval"],
    )


def model_not_found(name: str) -> NotFound:
    return NotFound(
        f"Registered model {name!r} not found: list models with `noria models list`, or "
        "register one with `noria models register`."
    )


def model_row(connection: Connection, name: str) -> Row[Any]:
    row = connection.execute(select(registered_models).where(_m.name == name)).first()
    if row is None:
        raise model_not_found(name)
    return row


def version_row(connection: Connection, name: str, version: int) -> Row[Any]:
    query = (
        select(model_versions, _m.name)
        .join(registered_models, _m.id == _v.model_id)
        .where(_m.name == name, _v.version == version)
    )
    row = connection.execute(query).first()
    if row is not None:
        return row
    model = model_row(connection, name)  # raises for an unknown model
    latest = connection.execute(
        select(func.max(_v.version)).where(_v.model_id == model.id)
    ).scalar()
    known = f"its versions are 1 to {latest}" if latest else "it has no versions yet"
    raise NotFound(f"Model {name!r} has no version {version}: {known}.")


def load_models(connection: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
    ids = [row.id for row in rows]
    tags: defaultdict[int, dict[str, str]] = defaultdict(dict)
    aliases: defaultdict[int, dict[str, int]] = defaultdict(dict)
    latest: dict[int, int] = {}
    if ids:
        t = registered_model_tags.c
        for model_id, key, value in connection.execute(
            select(t.model_id, t.key, t.value).where(t.model_id.in_(ids)).order_by(t.key)
        ):
            tags[model_id][key] = value
        for model_id, alias, version in connection.execute(
            select(_a.model_id, _a.alias, _v.version)
            .join(model_versions, _v.id == _a.version_id)
            .where(_a.model_id.in_(ids))
            .order_by(_a.alias)
        ):
            aliases[model_id][alias] = version
        for model_id, version in connection.execute(
            select(_v.model_id, func.max(_v.version))
            .where(_v.model_id.in_(ids))
            .group_by(_v.model_id)
        ):
            latest[model_id] = version
    return [
        RegisteredModel(
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            tags=tags[row.id],
            aliases=aliases[row.id],
            policy=policy_from_json(row.policy_json),
            latest_version=latest.get(row.id),
        )
        for row in rows
    ]


def load_versions(connection: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
    """Rows of ``model_versions`` joined with the model's ``name``."""
    ids = [row.id for row in rows]
    tags: defaultdict[int, dict[str, str]] = defaultdict(dict)
    aliases: defaultdict[int, list[str]] = defaultdict(list)
    if ids:
        t = model_version_tags.c
        for version_id, key, value in connection.execute(
            select(t.version_id, t.key, t.value).where(t.version_id.in_(ids)).order_by(t.key)
        ):
            tags[version_id][key] = value
        for version_id, alias in connection.execute(
            select(_a.version_id, _a.alias).where(_a.version_id.in_(ids)).order_by(_a.alias)
        ):
            aliases[version_id].append(alias)
    return [_version(row, tags[row.id], tuple(aliases[row.id])) for row in rows]


def _version(row: Row[Any], tags: dict[str, str], aliases: tuple[str, ...]) -> ModelVersion:
    gate = None
    if row.gate_passed is not None:
        gate = GateRecord(
            passed=bool(row.gate_passed),
            verdict_json=row.gate_json or "",
            recorded_at=row.gate_recorded_at,
            recorded_by=row.gate_recorded_by,
        )
    return ModelVersion(
        name=row.name,
        version=row.version,
        source=row.source,
        run_id=row.run_id,
        digest=row.digest,
        status=VersionStatus(row.status),
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tags=tags,
        aliases=aliases,
        metrics=json.loads(row.metrics_json),
        signature_json=row.signature_json,
        gate=gate,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
    )
