"""Runs in SQL: create, update, soft delete, batched logging, search and metric history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from noria.backends.sql import metric_writes
from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import check_stage, require_active_experiment
from noria.backends.sql.run_loading import (
    MIN_HISTORY_POINTS,
    downsample,
    load_runs,
    read_history,
    require_active_run,
    run_info,
    run_not_found,
    run_row,
)
from noria.backends.sql.run_search import search_run_ids
from noria.backends.sql.tables import now_ms, run_tags, runs
from noria.domain.ids import new_id
from noria.domain.paging import Page
from noria.domain.tracking import (
    MAX_NAME_LENGTH,
    LifecycleStage,
    Metric,
    MetricHistory,
    Param,
    Run,
    RunInfo,
    RunSearch,
    RunStatus,
    RunTag,
    check_key,
    check_step,
    check_value,
)
from noria.errors import InvalidArgument, NotFound

_r = runs.c
MAX_USER_LENGTH = 256


def _check_name(name: str) -> str:
    if not isinstance(name, str):
        raise InvalidArgument(f"Invalid run name {name!r}: it must be a string.")
    return check_value(name, "run", "name", MAX_NAME_LENGTH)


def _check_time(value: Any, what: str) -> int:
    try:
        return check_step(value)
    except InvalidArgument:
        raise InvalidArgument(
            f"Invalid run {what} {value!r}: use whole milliseconds since the Unix epoch."
        ) from None


def _check_status(status: Any) -> RunStatus:
    try:
        return RunStatus(status)
    except ValueError:
        choices = ", ".join(member.value for member in RunStatus)
        raise InvalidArgument(f"Invalid run status {status!r}: use one of {choices}.") from None


def _check_parent(connection: Connection, parent_id: str) -> None:
    if connection.execute(select(_r.id).where(_r.id == parent_id)).first() is None:
        raise NotFound(f"Parent run {parent_id!r} not found: check the parent run id.")


class SqlRunRepo:
    def __init__(self, database: SqlDatabase) -> None:
        self._db = database

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str,
        user: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        parent_id: str | None = None,
    ) -> Run:
        """A RUNNING run in an active experiment, with its tags."""
        run_id = new_id()
        info = RunInfo(
            id=run_id,
            experiment_id=experiment_id,
            name=_check_name(name),
            status=RunStatus.RUNNING,
            start_time=_check_time(start_time, "start time"),
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            user=check_value(user, "run", "user", MAX_USER_LENGTH),
            parent_id=parent_id,
        )
        values = {
            "id": run_id,
            "experiment_id": experiment_id,
            "name": info.name,
            "status": info.status.value,
            "start_time": info.start_time,
            "end_time": None,
            "lifecycle_stage": info.lifecycle_stage.value,
            "user_id": info.user,
            "parent_id": parent_id,
            "deleted_time": None,
        }
        checked_tags = metric_writes.check_tags(tags)
        self._db.ensure_ready()

        def work(connection: Connection) -> Run:
            require_active_experiment(connection, experiment_id)
            if parent_id is not None:
                _check_parent(connection, parent_id)
            connection.execute(insert(runs).values(values))
            if checked_tags:
                metric_writes.upsert_tags(connection, run_id, checked_tags)
            # Everything about a new run is known here: no need to read it back.
            return Run(info=info, tags=dict(checked_tags))

        return self._db.write(work)

    def get_run(self, run_id: str) -> Run:
        self._db.ensure_ready()
        found = self._db.read(lambda connection: load_runs(connection, [run_id]))
        if not found:
            raise run_not_found(run_id)
        return found[0]

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> RunInfo:
        """Change what is given; the name lives in the run's column, not in a tag."""
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = _check_status(status).value
        if end_time is not None:
            values["end_time"] = _check_time(end_time, "end time")
        if name is not None:
            values["name"] = _check_name(name)
        self._db.ensure_ready()

        def work(connection: Connection) -> RunInfo:
            require_active_run(connection, run_id)
            if values:
                connection.execute(update(runs).where(_r.id == run_id).values(values))
            return run_info(run_row(connection, run_id))

        return self._db.write(work)

    def set_run_stage(self, run_id: str, stage: str) -> RunInfo:
        """Soft delete (``deleted``, stamping ``deleted_time``) or restore (``active``)."""
        target = check_stage(stage)
        self._db.ensure_ready()

        def work(connection: Connection) -> RunInfo:
            row = run_row(connection, run_id)
            if row.lifecycle_stage != target:
                deleted_time = now_ms() if target is LifecycleStage.DELETED else None
                statement = update(runs).where(_r.id == run_id)
                connection.execute(
                    statement.values(lifecycle_stage=target.value, deleted_time=deleted_time)
                )
            return run_info(run_row(connection, run_id))

        return self._db.write(work)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """All or nothing: everything is checked first, then written in one transaction.
        A param already logged with another value raises ``Conflict``."""
        batch = metric_writes.check_batch(run_id, metrics=metrics, params=params, tags=tags)
        self._db.ensure_ready()
        self._db.write(lambda connection: metric_writes.write_batch(connection, batch))

    def delete_tag(self, run_id: str, key: str) -> None:
        check_key(key, "tag")
        self._db.ensure_ready()

        def work(connection: Connection) -> None:
            require_active_run(connection, run_id)
            statement = delete(run_tags).where(run_tags.c.run_id == run_id, run_tags.c.key == key)
            if connection.execute(statement).rowcount == 0:
                raise NotFound(f"Run {run_id!r} has no tag {key!r}: nothing to delete.")

        self._db.write(work)

    def search_runs(self, search: RunSearch) -> Page[Run]:
        """One page of runs matching ``search``, loaded in a handful of queries."""
        self._db.ensure_ready()

        def work(connection: Connection) -> Page[Run]:
            run_ids, next_token = search_run_ids(connection, search)
            return Page(load_runs(connection, run_ids), next_token)

        return self._db.read(work)

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory:
        """Every point in (step, timestamp) order; with ``max_points``, at most that many,
        keeping the first, last, lowest and highest (see ``run_loading.downsample``)."""
        check_key(key, "metric")
        if max_points is not None and (
            isinstance(max_points, bool) or max_points < MIN_HISTORY_POINTS
        ):
            raise InvalidArgument(
                f"max_points {max_points!r} is too small: ask for at least "
                f"{MIN_HISTORY_POINTS} points, or None for all of them."
            )
        self._db.ensure_ready()

        def work(connection: Connection) -> MetricHistory:
            if connection.execute(select(_r.id).where(_r.id == run_id)).first() is None:
                raise run_not_found(run_id)
            return read_history(connection, run_id, key)

        history = self._db.read(work)
        return history if max_points is None else downsample(history, max_points)
