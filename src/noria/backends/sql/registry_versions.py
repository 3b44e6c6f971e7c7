"""Model versions in SQL: numbered per model, tags, gate verdicts, guarded deletes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.registry_models import touch_model
from noria.backends.sql.registry_rows import load_versions, model_row, version_row
from noria.backends.sql.registry_tables import (
    SOURCE_LENGTH,
    model_version_tags,
    model_versions,
    registered_models,
)
from noria.backends.sql.tables import dialect_insert, now_ms
from noria.domain.paging import Page, check_page_size
from noria.domain.registry import (
    GateRecord,
    ModelVersion,
    NewModelVersion,
    VersionStatus,
    check_description,
    check_tag,
)
from noria.errors import Conflict, InvalidArgument

_m = registered_models.c
_v = model_versions.c
_t = model_version_tags.c
_ATTEMPTS = 5


class _NumberTaken(Exception):
    """A concurrent registration took the version number first."""


def get_version(connection: Connection, name: str, version: int) -> ModelVersion:
    return load_versions(connection, [version_row(connection, name, version)])[0]


def _check_new(new: NewModelVersion) -> None:
    if not new.source or len(new.source) > SOURCE_LENGTH:
        raise InvalidArgument(
            f"Invalid model source {new.source[:60]!r}: give the model's location "
            f"(runs:/<run-id>/<path> or an artifact URI) in 1 to {SOURCE_LENGTH} characters."
        )
    check_description(new.description)
    for key, value in new.tags.items():
        check_tag(key, value)


class SqlModelVersionRepo:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def create_version(self, new: NewModelVersion) -> ModelVersion:
        _check_new(new)
        self._db.ensure_ready()
        for _ in range(_ATTEMPTS - 1):
            try:
                return self._db.write(lambda connection: self._create(connection, new))
            except _NumberTaken:
                continue
        return self._db.write(lambda connection: self._create(connection, new))

    def _create(self, connection: Connection, new: NewModelVersion) -> ModelVersion:
        model = model_row(connection, new.name)
        # Numbering reads then writes: lock the model row so PostgreSQL writers queue
        # (SQLite's BEGIN IMMEDIATE already serialises them; it has no FOR UPDATE).
        connection.execute(select(_m.id).where(_m.id == model.id).with_for_update())
        latest = connection.execute(
            select(func.max(_v.version)).where(_v.model_id == model.id)
        ).scalar()
        now = now_ms()
        try:
            version_id = connection.execute(
                insert(model_versions).values(
                    model_id=model.id,
                    version=(latest or 0) + 1,
                    source=new.source,
                    run_id=new.run_id,
                    digest=new.digest,
                    status=VersionStatus.READY.value,
                    description=new.description,
                    created_by=new.created_by,
                    created_at=now,
                    updated_at=now,
                    metrics_json=json.dumps(new.metrics),
                    signature_json=new.signature_json,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError as exc:
            raise _NumberTaken from exc
        if new.tags:
            connection.execute(
                insert(model_version_tags),
                [{"version_id": version_id, "key": k, "value": v} for k, v in new.tags.items()],
            )
        touch_model(connection, model.id)
        return get_version(connection, new.name, (latest or 0) + 1)

    def get_version(self, name: str, version: int) -> ModelVersion:
        self._db.ensure_ready()
        return self._db.read(lambda connection: get_version(connection, name, version))

    def search_versions(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()
        query: Any = select(model_versions, _m.name).join(registered_models, _m.id == _v.model_id)
        if name is not None:
            query = query.where(_m.name == name)
        if run_id is not None:
            query = query.where(_v.run_id == run_id)
        query = query.order_by(_m.name, _v.version.desc()).offset(offset).limit(limit + 1)

        def read(connection: Connection) -> list[ModelVersion]:
            return load_versions(connection, connection.execute(query).all())

        versions = self._db.read(read)
        token = encode_offset(offset + limit) if len(versions) > limit else None
        return Page(versions[:limit], token)

    def _change(self, name: str, version: int, **values: Any) -> ModelVersion:
        self._db.ensure_ready()

        def write(connection: Connection) -> ModelVersion:
            row = version_row(connection, name, version)
            connection.execute(
                update(model_versions).where(_v.id == row.id).values(updated_at=now_ms(), **values)
            )
            return get_version(connection, name, version)

        return self._db.write(write)

    def update_version(self, name: str, version: int, *, description: str) -> ModelVersion:
        return self._change(name, version, description=check_description(description))

    def record_gate(self, name: str, version: int, gate: GateRecord) -> ModelVersion:
        return self._change(
            name,
            version,
            gate_passed=gate.passed,
            gate_json=gate.verdict_json,
            gate_recorded_at=gate.recorded_at,
            gate_recorded_by=gate.recorded_by,
        )

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        check_tag(key, value)
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            row = version_row(connection, name, version)
            statement = dialect_insert(connection, model_version_tags).values(
                version_id=row.id, key=key, value=value
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["version_id", "key"], set_={"value": value}
                )
            )

        self._db.write(write)

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            row = version_row(connection, name, version)
            connection.execute(
                delete(model_version_tags).where(_t.version_id == row.id, _t.key == key)
            )

        self._db.write(write)

    def delete_version(self, name: str, version: int, *, force: bool = False) -> ModelVersion:
        self._db.ensure_ready()

        def write(connection: Connection) -> ModelVersion:
            found = get_version(connection, name, version)
            if found.aliases and not force:
                used = ", ".join(f"@{alias}" for alias in found.aliases)
                raise Conflict(
                    f"Version {version} of {name!r} is in use by alias {used}: move or delete "
                    "the alias first, or pass --force to delete the version and its aliases."
                )
            row = version_row(connection, name, version)
            connection.execute(delete(model_versions).where(_v.id == row.id))
            touch_model(connection, row.model_id)
            return found

        return self._db.write(write)
