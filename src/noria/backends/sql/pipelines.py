"""Pipeline runs, step runs and the step cache in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.pipeline_tables import (
    ACTOR_LENGTH,
    EXECUTOR_LENGTH,
    STEP_REF_LENGTH,
    pipeline_cache,
    pipeline_runs,
    step_runs,
)
from noria.backends.sql.tables import dialect_insert
from noria.domain.ids import is_id
from noria.domain.paging import Page, check_page_size
from noria.domain.pipelines import (
    CacheEntry,
    PipelineRun,
    PipelineStatus,
    StepRun,
    StepStatus,
    check_cache_key,
    check_name,
    clip_error,
    refs_from_json,
    refs_to_json,
)
from noria.errors import AlreadyExists, BackendError, InvalidArgument, NotFound

_r = pipeline_runs.c
_s = step_runs.c
_c = pipeline_cache.c


def _check_id(value: str, what: str) -> str:
    if not is_id(value):
        raise InvalidArgument(f"Invalid {what} id {value!r}: expected 32 lowercase hex characters.")
    return value


def _check_length(value: str, limit: int, what: str) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"{what} has {len(value)} characters; the limit is {limit}.")


def _run_not_found(run_id: str) -> NotFound:
    return NotFound(
        f"Pipeline run {run_id!r} not found: `noria pipelines runs` lists the stored runs."
    )


def _run(row: Row[Any]) -> PipelineRun:
    return PipelineRun(
        id=row.id,
        pipeline=row.pipeline,
        status=PipelineStatus(row.status),
        params=json.loads(row.params_json),
        executor=row.executor,
        created_by=row.created_by,
        started_at=row.started_at,
        ended_at=row.ended_at,
        tracking_run_id=row.tracking_run_id,
        error=row.error,
    )


def _step(row: Row[Any]) -> StepRun:
    return StepRun(
        id=row.id,
        pipeline_run_id=row.pipeline_run_id,
        name=row.name,
        step_ref=row.step_ref,
        status=StepStatus(row.status),
        upstream=tuple(json.loads(row.upstream_json)),
        cache_key=row.cache_key,
        cache_hit=bool(row.cache_hit),
        cached_from=row.cached_from,
        attempts=row.attempts,
        started_at=row.started_at,
        ended_at=row.ended_at,
        inputs=refs_from_json(json.loads(row.inputs_json)),
        outputs=refs_from_json(json.loads(row.outputs_json)),
        logs_digest=row.logs_digest,
        tracking_run_id=row.tracking_run_id,
        error=row.error,
    )


def _step_values(step: StepRun) -> dict[str, Any]:
    """The columns a step's state changes (everything but its identity and position)."""
    if step.cache_key is not None:
        check_cache_key(step.cache_key)
    return {
        "status": step.status.value,
        "upstream_json": json.dumps(list(step.upstream)),
        "cache_key": step.cache_key,
        "cache_hit": step.cache_hit,
        "cached_from": step.cached_from,
        "attempts": step.attempts,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "inputs_json": json.dumps(refs_to_json(step.inputs)),
        "outputs_json": json.dumps(refs_to_json(step.outputs)),
        "logs_digest": step.logs_digest,
        "tracking_run_id": step.tracking_run_id,
        "error": clip_error(step.error),
    }


def _check_run(run: PipelineRun, steps: Sequence[StepRun]) -> None:
    _check_id(run.id, "pipeline run")
    check_name(run.pipeline, "pipeline")
    _check_length(run.executor, EXECUTOR_LENGTH, "Executor name")
    _check_length(run.created_by, ACTOR_LENGTH, "User name")
    names = [step.name for step in steps]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"Pipeline run {run.id} names a step twice: {names}.")
    for step in steps:
        _check_id(step.id, "step run")
        check_name(step.name, "step")
        _check_length(step.step_ref, STEP_REF_LENGTH, "Step reference")
        if step.pipeline_run_id != run.id:
            raise InvalidArgument(
                f"Step run {step.name!r} belongs to pipeline run {step.pipeline_run_id}, "
                f"not {run.id}."
            )


class SqlPipelineRepo:
    """A :class:`~noria.ports.pipelines.PipelineRepo` over one SQL database."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def create_run(self, run: PipelineRun, steps: Sequence[StepRun]) -> None:
        _check_run(run, steps)
        self._db.ensure_ready()
        run_row = {
            "id": run.id,
            "pipeline": run.pipeline,
            "status": run.status.value,
            "params_json": json.dumps(dict(run.params), sort_keys=True),
            "executor": run.executor,
            "created_by": run.created_by,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "tracking_run_id": run.tracking_run_id,
            "error": clip_error(run.error),
        }
        step_rows = [
            {
                "id": step.id,
                "pipeline_run_id": run.id,
                "position": position,
                "name": step.name,
                "step_ref": step.step_ref,
                **_step_values(step),
            }
            for position, step in enumerate(steps)
        ]

        def write(connection: Connection) -> None:
            connection.execute(insert(pipeline_runs).values(run_row))
            if step_rows:
                connection.execute(insert(step_runs), step_rows)

        try:
            self._db.write(write)
        except BackendError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise AlreadyExists(
                    f"Pipeline run {run.id} (or one of its step run ids) is already stored."
                ) from None
            raise

    def finish_run(
        self, run_id: str, status: PipelineStatus, *, ended_at: int, error: str | None = None
    ) -> PipelineRun:
        _check_id(run_id, "pipeline run")
        self._db.ensure_ready()

        def write(connection: Connection) -> PipelineRun:
            done = connection.execute(
                update(pipeline_runs)
                .where(_r.id == run_id)
                .values(status=status.value, ended_at=ended_at, error=clip_error(error))
            )
            if done.rowcount == 0:
                raise _run_not_found(run_id)
            return _run(connection.execute(select(pipeline_runs).where(_r.id == run_id)).one())

        return self._db.write(write)

    def save_step(self, step: StepRun) -> None:
        _check_id(step.id, "step run")
        values = _step_values(step)
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            done = connection.execute(update(step_runs).where(_s.id == step.id).values(values))
            if done.rowcount == 0:
                raise NotFound(
                    f"Step run {step.id} ({step.name!r}) is not stored: create its pipeline "
                    "run with all its steps first."
                )

        self._db.write(write)

    def get_run(self, run_id: str) -> PipelineRun:
        _check_id(run_id, "pipeline run")
        self._db.ensure_ready()
        row = self._db.read(
            lambda connection: connection.execute(
                select(pipeline_runs).where(_r.id == run_id)
            ).first()
        )
        if row is None:
            raise _run_not_found(run_id)
        return _run(row)

    def list_steps(self, run_id: str) -> list[StepRun]:
        _check_id(run_id, "pipeline run")
        self._db.ensure_ready()

        def read(connection: Connection) -> list[StepRun]:
            if connection.execute(select(_r.id).where(_r.id == run_id)).first() is None:
                raise _run_not_found(run_id)
            query = select(step_runs).where(_s.pipeline_run_id == run_id).order_by(_s.position)
            return [_step(row) for row in connection.execute(query)]

        return self._db.read(read)

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: PipelineStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[PipelineRun]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()
        query = select(pipeline_runs).order_by(_r.started_at.desc(), _r.id.desc())
        if pipeline is not None:
            query = query.where(_r.pipeline == pipeline)
        if status is not None:
            query = query.where(_r.status == PipelineStatus(status).value)
        query = query.offset(offset).limit(limit + 1)
        rows = self._db.read(lambda connection: connection.execute(query).all())
        token = encode_offset(offset + limit) if len(rows) > limit else None
        return Page([_run(row) for row in rows[:limit]], token)

    def find_cached(self, key: str) -> CacheEntry | None:
        check_cache_key(key)
        self._db.ensure_ready()
        row = self._db.read(
            lambda connection: connection.execute(
                select(pipeline_cache).where(_c.cache_key == key)
            ).first()
        )
        return None if row is None else _entry(row)

    def save_cached(self, entry: CacheEntry) -> None:
        check_cache_key(entry.key)
        check_name(entry.pipeline, "pipeline")
        check_name(entry.step_name, "step")
        _check_id(entry.step_run_id, "step run")
        values = {
            "cache_key": entry.key,
            "pipeline": entry.pipeline,
            "step_name": entry.step_name,
            "step_run_id": entry.step_run_id,
            "outputs_json": json.dumps(refs_to_json(entry.outputs)),
            "created_at": entry.created_at,
        }
        self._db.ensure_ready()

        def write(connection: Connection) -> None:
            statement = dialect_insert(connection, pipeline_cache).values(values)
            replace = {key: value for key, value in values.items() if key != "cache_key"}
            connection.execute(
                statement.on_conflict_do_update(index_elements=["cache_key"], set_=replace)
            )

        self._db.write(write)

    def clear_cache(self, *, pipeline: str | None = None, step: str | None = None) -> int:
        statement = delete(pipeline_cache)
        if pipeline is not None:
            statement = statement.where(_c.pipeline == pipeline)
        if step is not None:
            statement = statement.where(_c.step_name == step)
        self._db.ensure_ready()
        return int(self._db.write(lambda connection: connection.execute(statement).rowcount))


def _entry(row: Row[Any]) -> CacheEntry:
    return CacheEntry(
        key=row.cache_key,
        pipeline=row.pipeline,
        step_name=row.step_name,
        step_run_id=row.step_run_id,
        outputs=refs_from_json(json.loads(row.outputs_json)),
        created_at=row.created_at,
    )
