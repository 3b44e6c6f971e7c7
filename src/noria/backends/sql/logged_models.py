"""MLflow 3 logged models in SQL: rows, tags, write-once params and files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset, experiment_row
from noria.backends.sql.logged_model_tables import (
    logged_model_files,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from noria.backends.sql.run_data import artifact_from_row, check_artifact_path, check_artifact_row
from noria.backends.sql.tables import dialect_insert, now_ms, runs
from noria.domain.logged_models import (
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    LoggedModel,
    LoggedModelStatus,
    NewLoggedModel,
    check_entry,
    check_new_logged_model,
    new_model_id,
)
from noria.domain.paging import Page, check_page_size
from noria.domain.tracking import RunArtifact
from noria.errors import InvalidArgument, NotFound
from noria.ports.logged_models import LoggedModelSearch

_m = logged_models.c
_f = logged_model_files.c
_ACTIVE, _DELETED = "active", "deleted"


def _not_found(model_id: str) -> NotFound:
    return NotFound(
        f"Logged model {model_id!r} does not exist: search the experiment's logged models "
        "for its id."
    )


def _load(connection: Connection, rows: Sequence[Row[Any]]) -> list[LoggedModel]:
    ids = [row.id for row in rows]
    tags = _entries(connection, logged_model_tags, ids)
    params = _entries(connection, logged_model_params, ids)
    return [
        LoggedModel(
            id=row.id,
            experiment_id=row.experiment_id,
            name=row.name,
            source_run_id=row.source_run_id,
            model_type=row.model_type,
            status=LoggedModelStatus(row.status),
            status_message=row.status_message,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deleted=row.lifecycle_stage == _DELETED,
            tags=tags.get(row.id, {}),
            params=params.get(row.id, {}),
        )
        for row in rows
    ]


def _entries(connection: Connection, table: Any, ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    if ids:
        query = select(table).where(table.c.model_id.in_(ids)).order_by(table.c.key)
        for row in connection.execute(query):
            found.setdefault(row.model_id, {})[row.key] = row.value
    return found


def _row(connection: Connection, model_id: str, *, allow_deleted: bool) -> Row[Any]:
    row = connection.execute(select(logged_models).where(_m.id == model_id)).first()
    if row is None or (row.lifecycle_stage == _DELETED and not allow_deleted):
        raise _not_found(model_id)
    return row


def _get(connection: Connection, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
    return _load(connection, [_row(connection, model_id, allow_deleted=allow_deleted)])[0]


def _upsert_tags(connection: Connection, model_id: str, tags: Mapping[str, str]) -> None:
    rows = [{"model_id": model_id, "key": k, "value": tags[k]} for k in sorted(tags)]
    statement = dialect_insert(connection, logged_model_tags)
    statement = statement.on_conflict_do_update(
        index_elements=[logged_model_tags.c.model_id, logged_model_tags.c.key],
        set_={"value": statement.excluded.value},
    )
    connection.execute(statement, rows)


def _add_params(connection: Connection, model_id: str, params: Mapping[str, str]) -> None:
    """Params are written once: the same value again is fine, a new value is refused."""
    table = logged_model_params
    query = select(table.c.key, table.c.value).where(
        table.c.model_id == model_id, table.c.key.in_(list(params))
    )
    existing: dict[str, str] = {row.key: row.value for row in connection.execute(query)}
    for key, value in existing.items():
        if params[key] != value:
            raise InvalidArgument(
                f"Logged model {model_id!r} already has param {key!r} = {value!r}; params "
                f"cannot change (tried {params[key]!r}): log a new model instead."
            )
    fresh = [
        {"model_id": model_id, "key": k, "value": params[k]}
        for k in sorted(params)
        if k not in existing
    ]
    if fresh:
        connection.execute(insert(table), fresh)


def _checked(entries: Mapping[str, str] | None, what: str, limit: int) -> dict[str, str]:
    return dict(check_entry(what, key, value, limit) for key, value in (entries or {}).items())


class SqlLoggedModelRepo:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def create(self, new: NewLoggedModel) -> LoggedModel:
        check_new_logged_model(new)
        self._db.ensure_ready()

        def write(connection: Connection) -> LoggedModel:
            experiment_row(connection, new.experiment_id)  # NotFound names the experiment
            if new.source_run_id is not None:
                _check_run(connection, new.source_run_id, new.experiment_id)
            now = now_ms()
            model_id = new_model_id()
            connection.execute(
                insert(logged_models).values(
                    id=model_id,
                    experiment_id=new.experiment_id,
                    name=new.name,
                    source_run_id=new.source_run_id,
                    model_type=new.model_type,
                    status=LoggedModelStatus.PENDING.value,
                    status_message="",
                    lifecycle_stage=_ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
            )
            if new.tags:
                _upsert_tags(connection, model_id, new.tags)
            if new.params:
                _add_params(connection, model_id, new.params)
            return _get(connection, model_id)

        return self._db.write(write)

    def get(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        self._db.ensure_ready()
        return self._db.read(lambda c: _get(c, model_id, allow_deleted=allow_deleted))

    def update(
        self,
        model_id: str,
        *,
        status: LoggedModelStatus | None = None,
        status_message: str | None = None,
        set_tags: Mapping[str, str] | None = None,
        delete_tags: Sequence[str] = (),
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        tags = _checked(set_tags, "tag", MAX_TAG_VALUE_LENGTH)
        checked_params = _checked(params, "param", MAX_PARAM_VALUE_LENGTH)
        self._db.ensure_ready()

        def write(connection: Connection) -> LoggedModel:
            _row(connection, model_id, allow_deleted=False)
            values: dict[str, Any] = {"updated_at": now_ms()}
            if status is not None:
                values["status"] = LoggedModelStatus(status).value
            if status_message is not None:
                values["status_message"] = status_message
            connection.execute(update(logged_models).where(_m.id == model_id).values(values))
            if tags:
                _upsert_tags(connection, model_id, tags)
            if delete_tags:
                table = logged_model_tags
                connection.execute(
                    delete(table).where(
                        table.c.model_id == model_id, table.c.key.in_(list(delete_tags))
                    )
                )
            if checked_params:
                _add_params(connection, model_id, checked_params)
            return _get(connection, model_id)

        return self._db.write(write)

    def delete(self, model_id: str) -> None:
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            _row(connection, model_id, allow_deleted=False)
            connection.execute(
                update(logged_models)
                .where(_m.id == model_id)
                .values(lifecycle_stage=_DELETED, updated_at=now_ms())
            )

        self._db.write(write)

    def search(
        self, query: LoggedModelSearch, *, limit: int = 100, page_token: str | None = None
    ) -> Page[LoggedModel]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        statement = (
            select(logged_models)
            .where(_m.experiment_id.in_(query.experiment_ids), _m.lifecycle_stage == _ACTIVE)
            .order_by(_m.created_at.desc(), _m.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
        for column, value in (
            (_m.name, query.name),
            (_m.source_run_id, query.source_run_id),
            (_m.status, None if query.status is None else query.status.value),
        ):
            if value is not None:
                statement = statement.where(column == value)
        self._db.ensure_ready()
        found = self._db.read(lambda c: _load(c, c.execute(statement).all()))
        token = encode_offset(offset + limit) if len(found) > limit else None
        return Page(found[:limit], token)

    def record_files(self, model_id: str, files: Sequence[RunArtifact]) -> None:
        by_path = {row["path"]: row for row in map(check_artifact_row, files)}
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            _row(connection, model_id, allow_deleted=False)
            if not by_path:
                return
            statement = dialect_insert(connection, logged_model_files)
            statement = statement.on_conflict_do_update(
                index_elements=[_f.model_id, _f.path],
                set_={
                    "digest": statement.excluded.digest,
                    "size": statement.excluded.size,
                    "media_type": statement.excluded.media_type,
                },
            )
            connection.execute(
                statement, [{"model_id": model_id, **by_path[path]} for path in sorted(by_path)]
            )

        self._db.write(write)

    def list_files(self, model_id: str, prefix: str = "") -> list[RunArtifact]:
        folder = prefix.rstrip("/")
        statement = select(logged_model_files).where(_f.model_id == model_id)
        if folder:
            check_artifact_path(folder)
            statement = statement.where(_f.path.startswith(f"{folder}/", autoescape=True))
        self._db.ensure_ready()

        def read(connection: Connection) -> list[RunArtifact]:
            _row(connection, model_id, allow_deleted=True)
            return _sorted(map(artifact_from_row, connection.execute(statement)))

        return self._db.read(read)

    def find_file(self, model_id: str, path: str) -> RunArtifact | None:
        check_artifact_path(path)
        statement = select(logged_model_files).where(_f.model_id == model_id, _f.path == path)
        self._db.ensure_ready()

        def read(connection: Connection) -> RunArtifact | None:
            _row(connection, model_id, allow_deleted=True)
            row = connection.execute(statement).first()
            return None if row is None else artifact_from_row(row)

        return self._db.read(read)


def _sorted(files: Iterable[RunArtifact]) -> list[RunArtifact]:
    # Sorted here: PostgreSQL's collation may order paths unlike SQLite's bytes.
    return sorted(files, key=lambda item: item.path)


def _check_run(connection: Connection, run_id: str, experiment_id: str) -> None:
    row = connection.execute(select(runs.c.experiment_id).where(runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(
            f"Run {run_id!r} does not exist: pass the id of the run that made the model."
        )
    if row.experiment_id != experiment_id:
        raise InvalidArgument(
            f"Run {run_id!r} is in experiment {row.experiment_id!r}, not {experiment_id!r}: "
            "log the model in its run's experiment."
        )
