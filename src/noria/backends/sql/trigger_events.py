"""Raised events in SQL, with the schedules that answered each one."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Row, exists, insert, select
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.schedule_tables import (
    ACTOR_LENGTH,
    schedule_firings,
    schedules,
    trigger_events,
)
from noria.backends.sql.schedules import schedule_row
from noria.domain.ids import is_id
from noria.domain.paging import Page, check_page_size
from noria.domain.schedules import Event, TriggerKind, check_event_name, check_payload
from noria.errors import AlreadyExists, BackendError, InvalidArgument, NotFound

_s = schedules.c
_f = schedule_firings.c
_e = trigger_events.c


def _check_id(event_id: str) -> str:
    if not is_id(event_id):
        raise InvalidArgument(
            f"Invalid event id {event_id!r}: expected 32 lowercase hex characters."
        )
    return event_id


def _handlers(connection: Connection, ids: list[str]) -> dict[str, tuple[str, ...]]:
    if not ids:
        return {}
    query = (
        select(_f.occurrence, _s.name)
        .join(schedules)
        .where(_f.occurrence.in_(ids), _s.kind == TriggerKind.EVENT.value)
        .order_by(_s.name)
    )
    found: defaultdict[str, list[str]] = defaultdict(list)
    for occurrence, name in connection.execute(query):
        found[occurrence].append(name)
    return {key: tuple(names) for key, names in found.items()}


def _events(connection: Connection, rows: list[Row[Any]]) -> list[Event]:
    handled = _handlers(connection, [row.id for row in rows])
    return [
        Event(
            id=row.id,
            name=row.name,
            payload=json.loads(row.payload_json),
            raised_at=row.raised_at,
            raised_by=row.raised_by,
            handled_by=handled.get(row.id, ()),
        )
        for row in rows
    ]


class SqlEventRepo:
    """A :class:`~noria.ports.schedules.EventRepo` over one SQL database."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def add_event(self, event: Event) -> Event:
        _check_id(event.id)
        if not event.raised_by or len(event.raised_by) > ACTOR_LENGTH:
            raise InvalidArgument(f"User name {event.raised_by!r} must have 1 to 256 characters.")
        values = {
            "id": event.id,
            "name": event.name,
            "payload_json": check_payload(event.payload),
            "raised_at": event.raised_at,
            "raised_by": event.raised_by,
        }
        self._db.ensure_ready()
        try:
            self._db.write(lambda connection: connection.execute(insert(trigger_events), values))
        except BackendError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise AlreadyExists(f"Event {event.id} is already stored.") from None
            raise
        return Event(event.id, event.name, dict(event.payload), event.raised_at, event.raised_by)

    def get_event(self, event_id: str) -> Event:
        _check_id(event_id)
        self._db.ensure_ready()

        def read(connection: Connection) -> list[Event]:
            rows = connection.execute(select(trigger_events).where(_e.id == event_id)).all()
            return _events(connection, list(rows))

        found = self._db.read(read)
        if not found:
            raise NotFound(
                f"Event {event_id!r} not found: `noria events list` shows raised events."
            )
        return found[0]

    def list_events(
        self,
        *,
        name: str | None = None,
        unhandled_by: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Event]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        if name is not None:
            check_event_name(name)
        self._db.ensure_ready()

        def read(connection: Connection) -> list[Event]:
            query = select(trigger_events).order_by(_e.raised_at.desc(), _e.id.desc())
            if name is not None:
                query = query.where(_e.name == name)
            if unhandled_by is not None:
                trigger = schedule_row(connection, unhandled_by)
                if trigger.event is None:
                    raise InvalidArgument(
                        f"Schedule {unhandled_by!r} is a {trigger.kind} schedule: only event "
                        "triggers answer events."
                    )
                answered = exists().where(_f.schedule_id == trigger.id, _f.occurrence == _e.id)
                query = query.where(
                    _e.name == trigger.event, _e.raised_at >= trigger.active_since, ~answered
                )
            rows = connection.execute(query.offset(offset).limit(limit + 1)).all()
            return _events(connection, list(rows))

        found = self._db.read(read)
        token = encode_offset(offset + limit) if len(found) > limit else None
        return Page(found[:limit], token)
