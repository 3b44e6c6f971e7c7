"""Promotion in SQL: approvals, and aliases moved under the model's approval policy."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.registry_models import touch_model
from noria.backends.sql.registry_rows import (
    model_row,
    policy_from_json,
    version_row,
)
from noria.backends.sql.registry_tables import model_aliases, model_versions
from noria.backends.sql.registry_versions import get_version
from noria.backends.sql.tables import dialect_insert, now_ms
from noria.domain.registry import (
    RESERVED_ALIASES,
    ModelVersion,
    check_alias,
    check_promotion,
)
from noria.errors import NotFound, PolicyViolation

_a = model_aliases.c
_v = model_versions.c


def _alias_not_found(name: str, alias: str) -> NotFound:
    return NotFound(
        f"Model {name!r} has no alias @{alias}: set it with "
        f"`noria models alias {name} {alias} <version>`."
    )


class SqlPromotionRepo:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def approve(self, name: str, version: int, *, approver: str) -> ModelVersion:
        self._db.ensure_ready()

        def write(connection: Connection) -> ModelVersion:
            row = version_row(connection, name, version)
            if approver == row.created_by:
                raise PolicyViolation(
                    f"{approver!r} registered version {version} of {name!r} and cannot "
                    "approve it: approval needs a second person."
                )
            connection.execute(
                update(model_versions)
                .where(_v.id == row.id)
                .values(approved_by=approver, approved_at=now_ms(), updated_at=now_ms())
            )
            return get_version(connection, name, version)

        return self._db.write(write)

    def set_alias(self, name: str, alias: str, version: int) -> int | None:
        check_alias(alias)
        self._db.ensure_ready()

        def write(connection: Connection) -> int | None:
            model = model_row(connection, name)
            target = get_version(connection, name, version)
            check_promotion(policy_from_json(model.policy_json), alias, target)
            previous = self._current(connection, model.id, alias)
            row = version_row(connection, name, version)
            statement = dialect_insert(connection, model_aliases).values(
                model_id=model.id, alias=alias, version_id=row.id
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["model_id", "alias"], set_={"version_id": row.id}
                )
            )
            touch_model(connection, model.id)
            return previous

        return self._db.write(write)

    @staticmethod
    def _current(connection: Connection, model_id: int, alias: str) -> int | None:
        found = connection.execute(
            select(_v.version)
            .join(model_aliases, _a.version_id == _v.id)
            .where(_a.model_id == model_id, _a.alias == alias)
        ).scalar()
        return None if found is None else int(found)

    def delete_alias(self, name: str, alias: str) -> int:
        self._db.ensure_ready()

        def write(connection: Connection) -> int:
            model = model_row(connection, name)
            previous = self._current(connection, model.id, alias)
            if previous is None:
                raise _alias_not_found(name, alias)
            connection.execute(
                delete(model_aliases).where(_a.model_id == model.id, _a.alias == alias)
            )
            touch_model(connection, model.id)
            return previous

        return self._db.write(write)

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        self._db.ensure_ready()

        def read(connection: Connection) -> ModelVersion:
            model = model_row(connection, name)
            if alias.lower() in RESERVED_ALIASES:
                latest = connection.execute(
                    select(_v.version)
                    .where(_v.model_id == model.id)
                    .order_by(_v.version.desc())
                    .limit(1)
                ).scalar()
                if latest is None:
                    raise NotFound(f"Model {name!r} has no versions yet.")
                return get_version(connection, name, int(latest))
            version = self._current(connection, model.id, alias)
            if version is None:
                raise _alias_not_found(name, alias)
            return get_version(connection, name, version)

        return self._db.read(read)
