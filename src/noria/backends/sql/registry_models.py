"""Registered models in SQL: unique names, tags, approval policies, guarded deletes."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.registry_rows import load_models, model_row, policy_to_json
from noria.backends.sql.registry_tables import (
    model_aliases,
    registered_model_tags,
    registered_models,
)
from noria.backends.sql.tables import dialect_insert, now_ms
from noria.domain.paging import Page, check_page_size
from noria.domain.registry import (
    ApprovalPolicy,
    RegisteredModel,
    check_alias,
    check_description,
    check_model_name,
    check_tag,
)
from noria.errors import AlreadyExists, Conflict

_m = registered_models.c
_t = registered_model_tags.c


def _taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"Registered model {name!r} already exists: pick another name.")


def get_model(connection: Connection, name: str) -> RegisteredModel:
    return load_models(connection, [model_row(connection, name)])[0]


def touch_model(connection: Connection, model_id: int) -> None:
    connection.execute(
        update(registered_models).where(_m.id == model_id).values(updated_at=now_ms())
    )


class SqlRegisteredModelRepo:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def create_model(
        self, name: str, *, description: str = "", tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        check_model_name(name)
        check_description(description)
        checked = dict(check_tag(key, value) for key, value in (tags or {}).items())
        self._db.ensure_ready()

        def write(connection: Connection) -> RegisteredModel:
            if connection.execute(select(_m.id).where(_m.name == name)).first() is not None:
                raise _taken(name)
            now = now_ms()
            try:
                model_id = connection.execute(
                    insert(registered_models).values(
                        name=name,
                        description=description,
                        created_at=now,
                        updated_at=now,
                        policy_json="",
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            except IntegrityError as exc:  # a concurrent writer took it meanwhile
                raise _taken(name) from exc
            if checked:
                connection.execute(
                    insert(registered_model_tags),
                    [{"model_id": model_id, "key": k, "value": v} for k, v in checked.items()],
                )
            return get_model(connection, name)

        return self._db.write(write)

    def get_model(self, name: str) -> RegisteredModel:
        self._db.ensure_ready()
        return self._db.read(lambda connection: get_model(connection, name))

    def search_models(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[RegisteredModel]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()
        query = select(registered_models).order_by(_m.name).offset(offset).limit(limit + 1)
        if name_like is not None:
            query = query.where(_m.name.like(name_like))

        def read(connection: Connection) -> list[RegisteredModel]:
            return load_models(connection, connection.execute(query).all())

        models = self._db.read(read)
        token = encode_offset(offset + limit) if len(models) > limit else None
        return Page(models[:limit], token)

    def update_model(self, name: str, *, description: str) -> RegisteredModel:
        check_description(description)
        self._db.ensure_ready()

        def write(connection: Connection) -> RegisteredModel:
            row = model_row(connection, name)
            connection.execute(
                update(registered_models)
                .where(_m.id == row.id)
                .values(description=description, updated_at=now_ms())
            )
            return get_model(connection, name)

        return self._db.write(write)

    def delete_model(self, name: str, *, force: bool = False) -> RegisteredModel:
        self._db.ensure_ready()

        def write(connection: Connection) -> RegisteredModel:
            model = get_model(connection, name)
            if model.aliases and not force:
                shown = ", ".join(f"@{a} → v{v}" for a, v in model.aliases.items())
                raise Conflict(
                    f"Model {name!r} has aliases in use ({shown}): delete them first, "
                    "or pass --force to delete the model with its versions and aliases."
                )
            # Children by hand: SQLite enforces ON DELETE CASCADE, but be explicit for both.
            row = model_row(connection, name)
            connection.execute(delete(model_aliases).where(model_aliases.c.model_id == row.id))
            connection.execute(delete(registered_models).where(_m.id == row.id))
            return model

        return self._db.write(write)

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        check_tag(key, value)
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            row = model_row(connection, name)
            statement = dialect_insert(connection, registered_model_tags).values(
                model_id=row.id, key=key, value=value
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["model_id", "key"], set_={"value": value}
                )
            )
            touch_model(connection, row.id)

        self._db.write(write)

    def delete_model_tag(self, name: str, key: str) -> None:
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            row = model_row(connection, name)
            connection.execute(
                delete(registered_model_tags).where(_t.model_id == row.id, _t.key == key)
            )
            touch_model(connection, row.id)

        self._db.write(write)

    def set_policy(self, name: str, policy: ApprovalPolicy) -> RegisteredModel:
        for alias in policy.protected_aliases:
            check_alias(alias)
        self._db.ensure_ready()

        def write(connection: Connection) -> RegisteredModel:
            row = model_row(connection, name)
            connection.execute(
                update(registered_models)
                .where(_m.id == row.id)
                .values(policy_json=policy_to_json(policy), updated_at=now_ms())
            )
            return get_model(connection, name)

        return self._db.write(write)
