"""Runs in SQL: create, update, end, soft delete, batched logging, search, metric history.

The statements of a run's life (create, log, end) run as plain SQL on the driver's
cursor: see :mod:`noria.backends.sql.driver` for why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from noria.backends.sql import metric_writes
from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.driver import Driver
from noria.backends.sql.experiments import check_stage, require_active_experiment
from noria.backends.sql.run_data import check_artifacts, upsert_artifacts
from noria.backends.sql.run_loading import (
    MIN_HISTORY_POINTS,
    downsample,
    find_run,
    load_runs,
    read_history,
    require_active_run,
    run_not_found,
)
from noria.backends.sql.run_search import search_run_ids
from noria.backends.sql.tables import now_ms
from noria.domain.ids import is_id, new_id
from noria.domain.paging import Page
from noria.domain.tracking import (
    MAX_NAME_LENGTH,
    LifecycleStage,
    Metric,
    MetricHistory,
    NewRun,
    Param,
    Run,
    RunInfo,
    RunSearch,
    RunStatus,
    RunTag,
    RunWrite,
    check_key,
    check_step,
    check_value,
)
from noria.errors import AlreadyExists, InvalidArgument, NotFound

MAX_USER_LENGTH = 256
_INSERT_RUN = (
    "INSERT INTO runs (id, experiment_id, name, status, start_time, end_time, "
    "lifecycle_stage, user_id, parent_id, deleted_time) "
    "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL)"
)
_RUN_EXISTS = "SELECT 1 FROM runs WHERE id = ?"
_DELETE_TAG = "DELETE FROM run_tags WHERE run_id = ? AND key = ?"
_SET_STAGE = "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?"
# Only these columns are ever updated; each statement sets the ones it is given.
_UPDATABLE = ("status", "end_time", "name")


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


def _checked_changes(
    status: RunStatus | None, end_time: int | None, name: str | None
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if status is not None:
        changes["status"] = _check_status(status)
    if end_time is not None:
        changes["end_time"] = _check_time(end_time, "end time")
    if name is not None:
        changes["name"] = _check_name(name)
    return changes


def _update(driver: Driver, info: RunInfo, changes: dict[str, Any]) -> RunInfo:
    """Apply ``changes`` (RunInfo field names) to the run ``info`` describes; the new info."""
    if not changes:
        return info
    columns = [column for column in _UPDATABLE if column in changes]
    assignments = ", ".join(f"{column} = ?" for column in columns)
    values = [getattr(changes[column], "value", changes[column]) for column in columns]
    driver.run(f"UPDATE runs SET {assignments} WHERE id = ?", (*values, info.id))
    return replace(info, **changes)


def _checked_new_run(run_id: str, new: NewRun) -> tuple[RunInfo, dict[str, str]]:
    """The info of a RUNNING run about to be created, and its checked tags."""
    info = RunInfo(
        id=run_id,
        experiment_id=new.experiment_id,
        name=_check_name(new.name),
        status=RunStatus.RUNNING,
        start_time=_check_time(new.start_time, "start time"),
        end_time=None,
        lifecycle_stage=LifecycleStage.ACTIVE,
        user=check_value(new.user, "run", "user", MAX_USER_LENGTH),
        parent_id=new.parent_id,
    )
    return info, metric_writes.check_tags(new.tags)


def _insert_run(driver: Driver, info: RunInfo, tags: dict[str, str]) -> RunInfo:
    """Insert a checked new run (in an active experiment, under an existing parent)."""
    require_active_experiment(driver, info.experiment_id)
    if info.parent_id is not None and driver.first(_RUN_EXISTS, (info.parent_id,)) is None:
        raise NotFound(f"Parent run {info.parent_id!r} not found: check the parent run id.")
    if driver.first(_RUN_EXISTS, (info.id,)) is not None:
        raise AlreadyExists(f"Run {info.id!r} already exists: a new run needs a new id.")
    row = (
        info.id,
        info.experiment_id,
        info.name,
        info.status.value,
        info.start_time,
        info.lifecycle_stage.value,
        info.user,
        info.parent_id,
    )
    driver.run(_INSERT_RUN, row)
    if tags:
        metric_writes.upsert_tags(driver, info.id, tags)
    return info


class SqlRunRepo:
    gather_writes = False  # a call is a transaction in this process: nothing to save

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
        new = NewRun(experiment_id, name, user, start_time, tuple(tags), parent_id)
        info, checked_tags = _checked_new_run(new_id(), new)
        self._db.ensure_ready()

        def work(connection: Connection) -> Run:
            _insert_run(Driver(connection), info, checked_tags)
            # Everything about a new run is known here: no need to read it back.
            return Run(info=info, tags=dict(checked_tags))

        return self._db.write(work)

    def write_run(self, write: RunWrite) -> RunInfo:
        """Create (when asked), log, record artifacts and end, in one transaction."""
        run_id = write.run_id
        created = None
        if write.create is not None:
            if not isinstance(run_id, str) or not is_id(run_id):
                raise InvalidArgument(
                    f"Invalid run id {run_id!r} for a new run: use 32 lowercase hex digits "
                    "(noria.domain.ids.new_id makes one)."
                )
            created = _checked_new_run(run_id, write.create)
        batch = metric_writes.check_batch(
            run_id, metrics=write.metrics, params=write.params, tags=write.tags
        )
        artifacts = check_artifacts(write.artifacts)
        changes = _checked_changes(write.status, write.end_time, None)
        self._db.ensure_ready()

        def work(connection: Connection) -> RunInfo:
            driver = Driver(connection)
            if created is not None:
                info = _insert_run(driver, *created)
            else:
                info = require_active_run(driver, run_id)
            metric_writes.write_batch(driver, batch)
            upsert_artifacts(driver, run_id, artifacts)
            return _update(driver, info, changes)

        return self._db.write(work)

    def get_run(self, run_id: str) -> Run:
        self._db.ensure_ready()
        found = self._db.read(lambda connection: load_runs(Driver(connection), [run_id]))
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
        changes = _checked_changes(status, end_time, name)
        self._db.ensure_ready()

        def work(connection: Connection) -> RunInfo:
            driver = Driver(connection)
            return _update(driver, require_active_run(driver, run_id), changes)

        return self._db.write(work)

    def end_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        end_time: int,
        metrics: Sequence[Metric] = (),
    ) -> RunInfo:
        """Store the run's last metric points and set its final status, in one transaction."""
        changes = _checked_changes(status, end_time, None)
        batch = metric_writes.CheckedBatch(run_id, metric_writes.check_metrics(metrics))
        self._db.ensure_ready()

        def work(connection: Connection) -> RunInfo:
            driver = Driver(connection)
            info = require_active_run(driver, run_id)
            metric_writes.write_batch(driver, batch)
            return _update(driver, info, changes)

        return self._db.write(work)

    def set_run_stage(self, run_id: str, stage: str) -> RunInfo:
        """Soft delete (``deleted``, stamping ``deleted_time``) or restore (``active``)."""
        target = check_stage(stage)
        self._db.ensure_ready()

        def work(connection: Connection) -> RunInfo:
            driver = Driver(connection)
            info = find_run(driver, run_id)
            if info.lifecycle_stage is target:
                return info
            deleted_time = now_ms() if target is LifecycleStage.DELETED else None
            driver.run(_SET_STAGE, (target.value, deleted_time, run_id))
            return replace(info, lifecycle_stage=target)

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

        def work(connection: Connection) -> None:
            driver = Driver(connection)
            require_active_run(driver, run_id)
            metric_writes.write_batch(driver, batch)

        self._db.write(work)

    def delete_tag(self, run_id: str, key: str) -> None:
        check_key(key, "tag")
        self._db.ensure_ready()

        def work(connection: Connection) -> None:
            driver = Driver(connection)
            require_active_run(driver, run_id)
            if driver.run(_DELETE_TAG, (run_id, key)) == 0:
                raise NotFound(f"Run {run_id!r} has no tag {key!r}: nothing to delete.")

        self._db.write(work)

    def search_runs(self, search: RunSearch) -> Page[Run]:
        """One page of runs matching ``search``, loaded in a handful of queries."""
        self._db.ensure_ready()

        def work(connection: Connection) -> Page[Run]:
            run_ids, next_token = search_run_ids(connection, search)
            return Page(load_runs(Driver(connection), run_ids), next_token)

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
            driver = Driver(connection)
            if driver.first(_RUN_EXISTS, (run_id,)) is None:
                raise run_not_found(run_id)
            return read_history(driver, run_id, key)

        history = self._db.read(work)
        return history if max_points is None else downsample(history, max_points)
