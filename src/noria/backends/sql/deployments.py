"""Deployment records in SQL: a row per deployment, a row per route, revision-checked updates."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.deployment_tables import deployment_routes, deployments
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.tables import now_ms
from noria.domain.deployments import (
    Deployment,
    DeploymentStatus,
    PromotionPolicy,
    Route,
    RouteRole,
)
from noria.domain.paging import Page, check_page_size
from noria.errors import AlreadyExists, Conflict, NotFound

_d = deployments.c
_r = deployment_routes.c


def _not_found(name: str) -> NotFound:
    return NotFound(
        f"Deployment {name!r} not found: list deployments with `noria deploy list`, or "
        "create one with `noria deploy create`."
    )


def _taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Deployment {name!r} already exists: pick another name, or change its traffic "
        "with `noria deploy traffic`."
    )


def _route_rows(deployment_id: int, routes: Sequence[Route]) -> list[dict[str, Any]]:
    return [
        {
            "deployment_id": deployment_id,
            "position": position,
            "model_name": route.model_name,
            "model_uri": route.model_uri,
            "role": route.role.value,
            "percent": route.percent,
        }
        for position, route in enumerate(routes)
    ]


def _policy_json(policy: PromotionPolicy | None) -> str | None:
    return None if policy is None else json.dumps(policy.to_dict(), sort_keys=True)


def _policy(text: str | None) -> PromotionPolicy | None:
    return None if text is None else PromotionPolicy.from_dict(json.loads(text))


def _load(connection: Connection, rows: Sequence[Row[Any]]) -> list[Deployment]:
    routes: defaultdict[int, list[Route]] = defaultdict(list)
    ids = [row.id for row in rows]
    if ids:
        query = (
            select(_r.deployment_id, _r.model_uri, _r.role, _r.percent)
            .where(_r.deployment_id.in_(ids))
            .order_by(_r.deployment_id, _r.position)
        )
        for deployment_id, uri, role, percent in connection.execute(query):
            routes[deployment_id].append(Route(uri, RouteRole(role), percent))
    return [
        Deployment(
            name=row.name,
            routes=tuple(routes[row.id]),
            description=row.description,
            sticky_key=row.sticky_key,
            status=DeploymentStatus(row.status),
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            revision=row.revision,
            promotion=_policy(row.promotion_policy),
        )
        for row in rows
    ]


def _row(connection: Connection, name: str) -> Row[Any]:
    row = connection.execute(select(deployments).where(_d.name == name)).first()
    if row is None:
        raise _not_found(name)
    return row


class SqlDeploymentRepo:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def create(self, deployment: Deployment) -> Deployment:
        self._db.ensure_ready()

        def write(connection: Connection) -> Deployment:
            if connection.execute(select(_d.id).where(_d.name == deployment.name)).first():
                raise _taken(deployment.name)
            now = now_ms()
            try:
                deployment_id = connection.execute(
                    insert(deployments).values(
                        name=deployment.name,
                        description=deployment.description,
                        sticky_key=deployment.sticky_key,
                        status=deployment.status.value,
                        revision=1,
                        created_by=deployment.created_by,
                        created_at=now,
                        updated_at=now,
                        promotion_policy=_policy_json(deployment.promotion),
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            except IntegrityError as exc:  # a concurrent writer took the name meanwhile
                raise _taken(deployment.name) from exc
            connection.execute(
                insert(deployment_routes), _route_rows(deployment_id, deployment.routes)
            )
            return _load(connection, [_row(connection, deployment.name)])[0]

        return self._db.write(write)

    def get(self, name: str) -> Deployment:
        self._db.ensure_ready()
        return self._db.read(lambda connection: _load(connection, [_row(connection, name)])[0])

    def list_deployments(
        self, *, model: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Deployment]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()
        query = select(deployments).order_by(_d.name).offset(offset).limit(limit + 1)
        if model is not None:
            uses_model = exists().where(_r.deployment_id == _d.id, _r.model_name == model)
            query = query.where(uses_model)

        def read(connection: Connection) -> list[Deployment]:
            return _load(connection, connection.execute(query).all())

        found = self._db.read(read)
        token = encode_offset(offset + limit) if len(found) > limit else None
        return Page(found[:limit], token)

    def update(self, deployment: Deployment) -> Deployment:
        self._db.ensure_ready()

        def write(connection: Connection) -> Deployment:
            row = _row(connection, deployment.name)
            changed = connection.execute(
                update(deployments)
                .where(_d.id == row.id, _d.revision == deployment.revision)
                .values(
                    description=deployment.description,
                    sticky_key=deployment.sticky_key,
                    status=deployment.status.value,
                    revision=_d.revision + 1,
                    updated_at=max(now_ms(), row.updated_at),
                    promotion_policy=_policy_json(deployment.promotion),
                )
            ).rowcount
            if changed != 1:
                raise Conflict(
                    f"Deployment {deployment.name!r} changed since it was read (revision "
                    f"{row.revision}, not {deployment.revision}): read it again and retry."
                )
            connection.execute(delete(deployment_routes).where(_r.deployment_id == row.id))
            connection.execute(insert(deployment_routes), _route_rows(row.id, deployment.routes))
            return _load(connection, [_row(connection, deployment.name)])[0]

        return self._db.write(write)

    def delete(self, name: str) -> Deployment:
        self._db.ensure_ready()

        def write(connection: Connection) -> Deployment:
            row = _row(connection, name)
            stored = _load(connection, [row])[0]
            # Routes by hand: SQLite enforces ON DELETE CASCADE, but be explicit for both.
            connection.execute(delete(deployment_routes).where(_r.deployment_id == row.id))
            connection.execute(delete(deployments).where(_d.id == row.id))
            return stored

        return self._db.write(write)
