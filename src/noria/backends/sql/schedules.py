"""Schedules and their firings in SQL; the exactly-once claim of an occurrence.

A claim reads the schedule row ``FOR UPDATE`` (PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already serialises writers), checks that the schedule may fire this occurrence, inserts
the firing — unique per (schedule, occurrence) — and moves the schedule's cursor, in one
transaction. Two schedulers racing for one occurrence queue on the lock; the second finds
the first one's firing and gets ``None``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.schedule_tables import (
    ACTOR_LENGTH,
    schedule_firings,
    schedules,
    trigger_events,
)
from noria.domain.paging import Page, check_page_size
from noria.domain.pipelines import clip_error
from noria.domain.schedules import (
    Firing,
    FiringStatus,
    Occurrence,
    Schedule,
    TriggerKind,
    check_schedule_name,
)
from noria.errors import AlreadyExists, BackendError, InvalidArgument, NoriaError, NotFound

_s = schedules.c
_f = schedule_firings.c
_e = trigger_events.c


class _NotClaimed(NoriaError):
    """Raised inside a claim's transaction to roll it back; never leaves this module."""


def not_found(name: str) -> NotFound:
    return NotFound(
        f"Schedule {name!r} not found: `noria schedule list` shows the schedules, "
        "`noria schedule add` creates one."
    )


def _taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Schedule {name!r} already exists: pick another --name, or remove it first with "
        f"`noria schedule remove {name}`."
    )


def _unique_violation(exc: BackendError) -> bool:
    return isinstance(exc.__cause__, IntegrityError)


def _check_actor(value: str, what: str) -> str:
    if not value or len(value) > ACTOR_LENGTH:
        raise InvalidArgument(f"{what} {value!r} must have 1 to {ACTOR_LENGTH} characters.")
    return value


def _schedule(row: Row[Any]) -> Schedule:
    return Schedule(
        name=row.name,
        pipeline=row.pipeline,
        kind=TriggerKind(row.kind),
        cron=row.cron,
        dataset=row.dataset,
        event=row.event,
        params=json.loads(row.params_json),
        executor=row.executor,
        cooldown_ms=row.cooldown_ms,
        enabled=bool(row.enabled),
        created_by=row.created_by,
        created_at=row.created_at,
        active_since=row.active_since,
        cursor=row.cursor,
        last_fired_at=row.last_fired_at,
        last_occurrence=row.last_occurrence,
    )


def _firing(row: Row[Any]) -> Firing:
    return Firing(
        id=row.id,
        schedule=row.schedule,
        occurrence=row.occurrence,
        status=FiringStatus(row.status),
        fired_at=row.fired_at,
        scheduler=row.scheduler,
        ended_at=row.ended_at,
        pipeline_run_id=row.pipeline_run_id,
        error=row.error,
    )


_FIRING_COLUMNS: tuple[Any, ...] = (
    _f.id,
    _s.name.label("schedule"),
    _f.occurrence,
    _f.status,
    _f.fired_at,
    _f.scheduler,
    _f.ended_at,
    _f.pipeline_run_id,
    _f.error,
)


def schedule_row(connection: Connection, name: str, *, lock: bool = False) -> Row[Any]:
    query = select(schedules).where(_s.name == name)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise not_found(name)
    return row


def _coalesce_older_events(
    connection: Connection, row: Row[Any], occurrence: Occurrence, now_ms: int, scheduler: str
) -> None:
    """Older unanswered events of the trigger are answered by this firing: record them."""
    answered = exists().where(_f.schedule_id == row.id, _f.occurrence == _e.id)
    older = select(
        literal(row.id),
        _e.id,
        literal(FiringStatus.COALESCED.value),
        literal(now_ms),
        literal(now_ms),
        literal(scheduler),
    ).where(
        _e.name == row.event,
        _e.raised_at >= row.active_since,
        _e.raised_at <= occurrence.raised_at,
        _e.id != occurrence.key,
        ~answered,
    )
    columns = ["schedule_id", "occurrence", "status", "fired_at", "ended_at", "scheduler"]
    connection.execute(insert(schedule_firings).from_select(columns, older))


def _claim(
    connection: Connection, name: str, occurrence: Occurrence, now_ms: int, scheduler: str
) -> Firing:
    row = connection.execute(select(schedules).where(_s.name == name).with_for_update()).first()
    if row is None or not row.enabled:
        raise _NotClaimed("gone or paused")
    if occurrence.cursor is not None and row.cursor is not None and occurrence.cursor <= row.cursor:
        raise _NotClaimed("not newer than the cursor")
    if row.last_fired_at is not None and now_ms < row.last_fired_at + row.cooldown_ms:
        raise _NotClaimed("cooling down")
    taken = select(_f.id).where(_f.schedule_id == row.id, _f.occurrence == occurrence.key)
    if connection.execute(taken).first() is not None:
        raise _NotClaimed("claimed already")
    firing_id = connection.execute(
        insert(schedule_firings).values(
            schedule_id=row.id,
            occurrence=occurrence.key,
            status=FiringStatus.RUNNING.value,
            fired_at=now_ms,
            scheduler=scheduler,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    if occurrence.raised_at is not None and row.event is not None:
        _coalesce_older_events(connection, row, occurrence, now_ms, scheduler)
    cursor = occurrence.cursor if occurrence.cursor is not None else row.cursor
    connection.execute(
        update(schedules)
        .where(_s.id == row.id)
        .values(cursor=cursor, last_fired_at=now_ms, last_occurrence=occurrence.key)
    )
    return Firing(
        id=int(firing_id),
        schedule=name,
        occurrence=occurrence.key,
        status=FiringStatus.RUNNING,
        fired_at=now_ms,
        scheduler=scheduler,
    )


class SqlScheduleRepo:
    """A :class:`~noria.ports.schedules.ScheduleRepo` over one SQL database."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def add(self, schedule: Schedule) -> Schedule:
        _check_actor(schedule.created_by, "Creator")
        values = {
            "name": schedule.name,
            "pipeline": schedule.pipeline,
            "kind": schedule.kind.value,
            "cron": schedule.cron,
            "dataset": schedule.dataset,
            "event": schedule.event,
            "params_json": json.dumps(dict(schedule.params), sort_keys=True),
            "executor": schedule.executor,
            "cooldown_ms": schedule.cooldown_ms,
            "enabled": schedule.enabled,
            "created_by": schedule.created_by,
            "created_at": schedule.created_at,
            "active_since": schedule.active_since,
            "cursor": schedule.cursor,
            "last_fired_at": schedule.last_fired_at,
            "last_occurrence": schedule.last_occurrence,
        }
        self._db.ensure_ready()

        def write(connection: Connection) -> Schedule:
            if connection.execute(select(_s.id).where(_s.name == schedule.name)).first():
                raise _taken(schedule.name)
            connection.execute(insert(schedules).values(values))
            return _schedule(schedule_row(connection, schedule.name))

        try:
            return self._db.write(write)
        except BackendError as exc:
            if _unique_violation(exc):  # a concurrent add took the name meanwhile
                raise _taken(schedule.name) from None
            raise

    def get(self, name: str) -> Schedule:
        check_schedule_name(name)
        self._db.ensure_ready()
        return _schedule(self._db.read(lambda connection: schedule_row(connection, name)))

    def list_schedules(
        self,
        *,
        kind: TriggerKind | None = None,
        enabled: bool | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Schedule]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        query = select(schedules).order_by(_s.name)
        if kind is not None:
            query = query.where(_s.kind == TriggerKind(kind).value)
        if enabled is not None:
            query = query.where(_s.enabled == enabled)
        query = query.offset(offset).limit(limit + 1)
        self._db.ensure_ready()
        rows = self._db.read(lambda connection: connection.execute(query).all())
        token = encode_offset(offset + limit) if len(rows) > limit else None
        return Page([_schedule(row) for row in rows[:limit]], token)

    def delete(self, name: str) -> Schedule:
        check_schedule_name(name)
        self._db.ensure_ready()

        def write(connection: Connection) -> Schedule:
            row = schedule_row(connection, name, lock=True)
            # Explicitly: the foreign key's cascade only acts where foreign keys are enforced.
            connection.execute(delete(schedule_firings).where(_f.schedule_id == row.id))
            connection.execute(delete(schedules).where(_s.id == row.id))
            return _schedule(row)

        return self._db.write(write)

    def set_enabled(
        self,
        name: str,
        enabled: bool,
        *,
        active_since: int | None = None,
        cursor: int | None = None,
    ) -> Schedule:
        check_schedule_name(name)
        values: dict[str, Any] = {"enabled": enabled}
        if enabled and active_since is not None:
            values["active_since"] = active_since
            if cursor is not None:
                values["cursor"] = cursor
        self._db.ensure_ready()

        def write(connection: Connection) -> Schedule:
            row = schedule_row(connection, name, lock=True)
            connection.execute(update(schedules).where(_s.id == row.id).values(values))
            return _schedule(schedule_row(connection, name))

        return self._db.write(write)

    def claim(
        self, name: str, occurrence: Occurrence, *, now_ms: int, scheduler: str
    ) -> Firing | None:
        check_schedule_name(name)
        _check_actor(scheduler, "Scheduler name")
        self._db.ensure_ready()
        try:
            return self._db.write(
                lambda connection: _claim(connection, name, occurrence, now_ms, scheduler)
            )
        except _NotClaimed:
            return None
        except BackendError as exc:
            if _unique_violation(exc):  # the unique (schedule, occurrence) backstop
                return None
            raise

    def finish_firing(
        self,
        firing_id: int,
        status: FiringStatus,
        *,
        ended_at: int,
        pipeline_run_id: str | None = None,
        error: str | None = None,
    ) -> Firing:
        status = FiringStatus(status)
        if not status.is_terminal:
            raise InvalidArgument(f"A firing finishes SUCCEEDED or FAILED, not {status.value}.")
        values = {
            "status": status.value,
            "ended_at": ended_at,
            "pipeline_run_id": pipeline_run_id,
            "error": clip_error(error),
        }
        self._db.ensure_ready()

        def write(connection: Connection) -> Firing:
            done = connection.execute(
                update(schedule_firings).where(_f.id == firing_id).values(values)
            )
            if done.rowcount == 0:
                raise NotFound(f"Firing {firing_id} not found: its schedule was removed meanwhile.")
            query = select(*_FIRING_COLUMNS).join(schedules).where(_f.id == firing_id)
            return _firing(connection.execute(query).one())

        return self._db.write(write)

    def list_firings(
        self, *, schedule: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Firing]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        query = select(*_FIRING_COLUMNS).join(schedules).order_by(_f.id.desc())
        self._db.ensure_ready()

        def read(connection: Connection) -> list[Row[Any]]:
            chosen = query
            if schedule is not None:
                chosen = chosen.where(_f.schedule_id == schedule_row(connection, schedule).id)
            return list(connection.execute(chosen.offset(offset).limit(limit + 1)).all())

        rows = self._db.read(read)
        token = encode_offset(offset + limit) if len(rows) > limit else None
        return Page([_firing(row) for row in rows[:limit]], token)
