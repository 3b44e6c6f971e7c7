"""Experiments in SQL: unique names, tags, soft delete, newest-first listing."""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.driver import Driver
from noria.backends.sql.tables import (
    dialect_insert,
    experiment_tags,
    experiments,
    now_ms,
    runs,
)
from noria.domain.ids import new_id
from noria.domain.paging import Page, check_page_size
from noria.domain.tracking import (
    DEFAULT_EXPERIMENT_ID,
    MAX_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    Experiment,
    LifecycleStage,
    ViewType,
    check_key,
    check_value,
)
from noria.errors import AlreadyExists, InvalidArgument, NotFound

_e = experiments.c
_t = experiment_tags.c
_TOKEN = re.compile(r"offset:([0-9]{1,9})")
MAX_LOCATION_LENGTH = 1000
_NAME_AND_STAGE = "SELECT name, lifecycle_stage FROM experiments WHERE id = ?"


def check_experiment_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid experiment name {name!r}: it must be a non-empty string.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgument(
            f"Experiment name {name[:40]!r}… has {len(name)} characters; "
            f"the limit is {MAX_NAME_LENGTH}."
        )
    return name


def check_stage(stage: str) -> LifecycleStage:
    try:
        return LifecycleStage(stage)
    except ValueError:
        raise InvalidArgument(
            f"Invalid lifecycle stage {stage!r}: use 'active' or 'deleted'."
        ) from None


def _check_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {
        check_key(key, "experiment tag"): check_value(
            value, "experiment tag", key, MAX_TAG_VALUE_LENGTH
        )
        for key, value in tags.items()
    }


def encode_offset(offset: int) -> str:
    """An opaque page token; callers must not build or read them."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_offset(page_token: str | None) -> int:
    if page_token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(page_token + "=" * (-len(page_token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = _TOKEN.fullmatch(text)
    if match is None:
        raise InvalidArgument(
            f"Invalid page token {page_token!r}: pass the next_page_token of a previous page."
        )
    return int(match.group(1))


def experiment_not_found(experiment_id: str) -> NotFound:
    return NotFound(f"Experiment {experiment_id!r} not found: check the id, or look it up by name.")


def experiment_row(connection: Connection, experiment_id: str) -> Row[Any]:
    row = connection.execute(select(experiments).where(_e.id == experiment_id)).first()
    if row is None:
        raise experiment_not_found(experiment_id)
    return row


def require_active_experiment(driver: Driver, experiment_id: str) -> None:
    """Refuse an unknown or a deleted experiment (one query: this is on every run's start)."""
    row = driver.first(_NAME_AND_STAGE, (experiment_id,))
    if row is None:
        raise experiment_not_found(experiment_id)
    name, stage = row
    if stage != LifecycleStage.ACTIVE:
        raise InvalidArgument(
            f"Experiment {name!r} ({experiment_id}) is deleted: restore it first."
        )


def _name_taken(row: Row[Any]) -> AlreadyExists:
    if row.lifecycle_stage == LifecycleStage.DELETED:
        return AlreadyExists(
            f"Experiment {row.name!r} already exists (id {row.id}) and is deleted; "
            "restore it or pick another name."
        )
    return AlreadyExists(
        f"Experiment {row.name!r} already exists (id {row.id}): pick another name."
    )


def _load(connection: Connection, rows: Sequence[Row[Any]]) -> list[Experiment]:
    """Experiments for ``rows`` with their tags, read in one query."""
    tags: defaultdict[str, dict[str, str]] = defaultdict(dict)
    ids = [row.id for row in rows]
    if ids:
        query = select(_t.experiment_id, _t.key, _t.value).where(_t.experiment_id.in_(ids))
        for experiment_id, key, value in connection.execute(query.order_by(_t.key)):
            tags[experiment_id][key] = value
    return [
        Experiment(
            id=row.id,
            name=row.name,
            artifact_location=row.artifact_location,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            creation_time=row.creation_time,
            last_update_time=row.last_update_time,
            tags=tags[row.id],
        )
        for row in rows
    ]


def _get(connection: Connection, experiment_id: str) -> Experiment:
    return _load(connection, [experiment_row(connection, experiment_id)])[0]


def _set_tags(connection: Connection, experiment_id: str, tags: Mapping[str, str]) -> None:
    # Sorted keys: concurrent PostgreSQL writers then lock rows in the same order.
    rows = [{"experiment_id": experiment_id, "key": k, "value": tags[k]} for k in sorted(tags)]
    statement = dialect_insert(connection, experiment_tags)
    statement = statement.on_conflict_do_update(
        index_elements=[_t.experiment_id, _t.key], set_={"value": statement.excluded.value}
    )
    connection.execute(statement, rows)


def _touch(connection: Connection, experiment_id: str, **values: Any) -> None:
    statement = update(experiments).where(_e.id == experiment_id)
    connection.execute(statement.values(last_update_time=now_ms(), **values))


def _set_runs_stage(connection: Connection, experiment_id: str, stage: LifecycleStage) -> None:
    deleted_time = now_ms() if stage is LifecycleStage.DELETED else None
    statement = update(runs).where(
        runs.c.experiment_id == experiment_id, runs.c.lifecycle_stage != stage.value
    )
    connection.execute(statement.values(lifecycle_stage=stage.value, deleted_time=deleted_time))


class SqlExperimentRepo:
    def __init__(self, database: SqlDatabase) -> None:
        self._db = database

    def create_experiment(
        self, name: str, *, tags: dict[str, str] | None = None, artifact_location: str = ""
    ) -> Experiment:
        """A new active experiment; ``AlreadyExists`` when the name is taken."""
        check_experiment_name(name)
        checked_tags = _check_tags(tags or {})
        location = check_value(
            artifact_location, "experiment", "artifact_location", MAX_LOCATION_LENGTH
        )
        self._db.ensure_ready()

        def work(connection: Connection) -> Experiment:
            now = now_ms()
            values = {
                "id": new_id(),
                "name": name,
                "artifact_location": location,
                "lifecycle_stage": LifecycleStage.ACTIVE.value,
                "creation_time": now,
                "last_update_time": now,
            }
            # DO NOTHING + RETURNING tells a taken name apart without aborting the
            # transaction, and without a race between checking and inserting.
            statement = dialect_insert(connection, experiments).values(values)
            created = connection.execute(
                statement.on_conflict_do_nothing().returning(_e.id)
            ).scalar()
            if created is None:
                taken = connection.execute(select(experiments).where(_e.name == name)).one()
                raise _name_taken(taken)
            if checked_tags:
                _set_tags(connection, created, checked_tags)
            return _get(connection, created)

        return self._db.write(work)

    def get_experiment(self, experiment_id: str) -> Experiment:
        self._db.ensure_ready()
        return self._db.read(lambda connection: _get(connection, experiment_id))

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment named ``name``, deleted or not; ``None`` when there is none."""
        self._db.ensure_ready()

        def work(connection: Connection) -> Experiment | None:
            row = connection.execute(select(experiments).where(_e.name == name)).first()
            return None if row is None else _load(connection, [row])[0]

        return self._db.read(work)

    def list_experiments(
        self,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Newest first. ``name_like`` is a SQL LIKE pattern (``%``, ``_``), matched
        case-insensitively on both databases."""
        check_page_size(limit)
        offset = decode_offset(page_token)
        stages = [stage.value for stage in ViewType(view).stages()]
        query = select(experiments).where(_e.lifecycle_stage.in_(stages))
        if name_like is not None:
            query = query.where(_e.name.ilike(name_like))
        query = query.order_by(_e.creation_time.desc(), _e.id.desc())
        query = query.offset(offset).limit(limit + 1)
        self._db.ensure_ready()

        def work(connection: Connection) -> list[Experiment]:
            return _load(connection, connection.execute(query).all())

        found = self._db.read(work)
        more = len(found) > limit
        return Page(found[:limit], encode_offset(offset + limit) if more else None)

    def rename_experiment(self, experiment_id: str, name: str) -> Experiment:
        check_experiment_name(name)
        self._db.ensure_ready()

        def work(connection: Connection) -> Experiment:
            row = experiment_row(connection, experiment_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidArgument(
                    f"Experiment {row.name!r} ({experiment_id}) is deleted: "
                    "restore it before renaming it."
                )
            if row.name == name:
                return _get(connection, experiment_id)
            taken = connection.execute(select(experiments).where(_e.name == name)).first()
            if taken is not None:
                raise _name_taken(taken)
            try:
                _touch(connection, experiment_id, name=name)
            except IntegrityError as exc:  # taken by a concurrent writer meanwhile
                raise AlreadyExists(
                    f"Experiment name {name!r} was just taken: pick another name."
                ) from exc
            return _get(connection, experiment_id)

        return self._db.write(work)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        tags = _check_tags({key: value})
        self._db.ensure_ready()

        def work(connection: Connection) -> None:
            require_active_experiment(Driver(connection), experiment_id)
            _set_tags(connection, experiment_id, tags)
            _touch(connection, experiment_id)

        self._db.write(work)

    def set_experiment_stage(self, experiment_id: str, stage: str) -> Experiment:
        """Soft delete or restore the experiment and, as MLflow does, all of its runs
        (they stay searchable with ``ViewType.DELETED_ONLY`` or ``ALL``)."""
        target = check_stage(stage)
        if target is LifecycleStage.DELETED and experiment_id == DEFAULT_EXPERIMENT_ID:
            raise InvalidArgument(
                f"The default experiment {DEFAULT_EXPERIMENT_ID!r} cannot be deleted."
            )
        self._db.ensure_ready()

        def work(connection: Connection) -> Experiment:
            row = experiment_row(connection, experiment_id)
            if row.lifecycle_stage != target:
                _touch(connection, experiment_id, lifecycle_stage=target.value)
                _set_runs_stage(connection, experiment_id, target)
            return _get(connection, experiment_id)

        return self._db.write(work)
