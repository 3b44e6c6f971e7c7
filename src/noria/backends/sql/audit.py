"""Audit events in SQL: appended once, listed newest first with seq cursors."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, func, insert, select

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.tables import (
    ACTION_LENGTH,
    ACTOR_LENGTH,
    audit_events,
    from_epoch_us,
    to_epoch_us,
)
from noria.domain.audit import AuditEvent, AuditQuery, JsonObject
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.paging import Page, check_page_size
from noria.errors import InvalidArgument

_t = audit_events.c
_TOKEN = re.compile(r"[0-9]{1,19}")
_MAX_SEQ = 2**63 - 1


def _check_text(value: str, what: str, max_length: int) -> None:
    if not value or len(value) > max_length:
        raise InvalidArgument(f"Invalid audit {what} {value!r}: use 1 to {max_length} characters.")


def _dump(value: JsonObject | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"Audit {what} is not JSON-serialisable: {exc}.") from exc


def _load(text: str | None) -> JsonObject | None:
    if text is None:
        return None
    value: JsonObject = json.loads(text)
    return value


def _row_values(event: AuditEvent) -> dict[str, Any]:
    _check_text(event.actor, "actor", ACTOR_LENGTH)
    _check_text(event.action, "action", ACTION_LENGTH)
    return {
        "occurred_at": to_epoch_us(event.occurred_at, "Audit occurred_at"),
        "actor": event.actor,
        "action": event.action,
        "entity_kind": event.entity.kind.value,
        "entity_key": event.entity.key,
        "before_json": _dump(event.before, "before"),
        "after_json": _dump(event.after, "after"),
    }


def _event(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        actor=row.actor,
        action=row.action,
        entity=EntityRef(EntityKind(row.entity_kind), row.entity_key),
        occurred_at=from_epoch_us(row.occurred_at),
        before=_load(row.before_json),
        after=_load(row.after_json),
        seq=row.seq,
    )


def _parse_token(page_token: str | None) -> int | None:
    if page_token is None:
        return None
    if not _TOKEN.fullmatch(page_token) or int(page_token) > _MAX_SEQ:
        raise InvalidArgument(
            f"Invalid page token {page_token!r}: pass the next_page_token of a previous page."
        )
    return int(page_token)


def _conditions(query: AuditQuery, before_seq: int | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if before_seq is not None:
        conditions.append(_t.seq < before_seq)
    if query.entity is not None:
        conditions.append(_t.entity_kind == query.entity.kind.value)
        conditions.append(_t.entity_key == query.entity.key)
    if query.actor is not None:
        conditions.append(_t.actor == query.actor)
    if query.action is not None:
        conditions.append(_t.action == query.action)
    # since is inclusive and until exclusive, so adjacent windows never overlap.
    if query.since is not None:
        conditions.append(_t.occurred_at >= to_epoch_us(query.since, "since"))
    if query.until is not None:
        conditions.append(_t.occurred_at < to_epoch_us(query.until, "until"))
    return conditions


class SqlAuditRepo:
    def __init__(self, database: SqlDatabase) -> None:
        self._db = database

    def append(self, event: AuditEvent) -> AuditEvent:
        """Store ``event``; returns it with ``seq`` set."""
        values = _row_values(event)
        self._db.ensure_ready()

        def work(connection: Connection) -> int:
            statement = insert(audit_events).values(values).returning(_t.seq)
            return int(connection.execute(statement).scalar_one())

        return replace(event, seq=self._db.write(work))

    def list_events(
        self, query: AuditQuery, *, limit: int = 100, page_token: str | None = None
    ) -> Page[AuditEvent]:
        """Events matching ``query``, newest (highest seq) first."""
        check_page_size(limit)
        conditions = _conditions(query, _parse_token(page_token))
        self._db.ensure_ready()
        # One extra row tells whether another page exists without a COUNT.
        statement = select(audit_events).where(*conditions).order_by(_t.seq.desc())
        rows = self._db.read(lambda c: list(c.execute(statement.limit(limit + 1))))
        items = [_event(row) for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items=items, next_page_token=str(items[-1].seq) if more else None)

    def count(self) -> int:
        self._db.ensure_ready()
        statement = select(func.count()).select_from(audit_events)
        return self._db.read(lambda c: int(c.execute(statement).scalar_one()))
