"""Fired alerts in SQL: one row each, updated while they stay open and when they resolve."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.monitor_tables import alerts, monitors
from noria.backends.sql.monitors import monitor_id
from noria.backends.sql.tables import now_ms
from noria.domain.alerts import ActionOutcome, Alert, AlertStatus, Operator, Severity
from noria.domain.paging import Page, check_page_size
from noria.errors import AlreadyExists, NotFound

_a = alerts.c
_m = monitors.c


def _not_found(alert_id: str) -> NotFound:
    return NotFound(
        f"Alert {alert_id!r} not found: list a monitor's alerts with `noria monitor show NAME`."
    )


def _outcomes(alert: Alert) -> str:
    return json.dumps([outcome.to_dict() for outcome in alert.actions])


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        monitor=row.monitor,
        rule=row.rule,
        figure=row.figure,
        operator=Operator(row.operator),
        threshold=row.threshold,
        severity=Severity(row.severity),
        status=AlertStatus(row.status),
        value=row.value,
        window_start=row.window_start,
        window_end=row.window_end,
        last_window_end=row.last_window_end,
        last_value=row.last_value,
        occurrences=row.occurrences,
        resolved_window_end=row.resolved_window_end,
        fired_at=row.fired_at,
        updated_at=row.updated_at,
        message=row.message,
        actions=tuple(ActionOutcome.from_dict(item) for item in json.loads(row.actions)),
    )


def _selected() -> Any:
    return select(alerts, _m.name.label("monitor")).join(monitors, _m.id == _a.monitor_id)


class SqlAlertRepo:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def add(self, alert: Alert) -> Alert:
        self._db.ensure_ready()

        def write(connection: Connection) -> Alert:
            ident = monitor_id(connection, alert.monitor)
            now = now_ms()
            try:
                connection.execute(
                    insert(alerts).values(
                        id=alert.id,
                        monitor_id=ident,
                        rule=alert.rule,
                        figure=alert.figure,
                        operator=alert.operator.value,
                        threshold=alert.threshold,
                        severity=alert.severity.value,
                        status=alert.status.value,
                        value=alert.value,
                        window_start=alert.window_start,
                        window_end=alert.window_end,
                        last_window_end=alert.last_window_end,
                        last_value=alert.last_value,
                        occurrences=alert.occurrences,
                        resolved_window_end=alert.resolved_window_end,
                        fired_at=now,
                        updated_at=now,
                        message=alert.message,
                        actions=_outcomes(alert),
                    )
                )
            except IntegrityError as exc:
                raise AlreadyExists(f"Alert {alert.id!r} is already stored.") from exc
            return _alert(connection.execute(_selected().where(_a.id == alert.id)).one())

        return self._db.write(write)

    def update(self, alert: Alert) -> Alert:
        self._db.ensure_ready()

        def write(connection: Connection) -> Alert:
            stored = connection.execute(_selected().where(_a.id == alert.id)).first()
            if stored is None:
                raise _not_found(alert.id)
            connection.execute(
                update(alerts)
                .where(_a.id == alert.id)
                .values(
                    status=alert.status.value,
                    last_window_end=alert.last_window_end,
                    last_value=alert.last_value,
                    occurrences=alert.occurrences,
                    resolved_window_end=alert.resolved_window_end,
                    updated_at=max(now_ms(), stored.updated_at),
                    actions=_outcomes(alert),
                )
            )
            return _alert(connection.execute(_selected().where(_a.id == alert.id)).one())

        return self._db.write(write)

    def get(self, alert_id: str) -> Alert:
        self._db.ensure_ready()

        def read(connection: Connection) -> Alert:
            row = connection.execute(_selected().where(_a.id == alert_id)).first()
            if row is None:
                raise _not_found(alert_id)
            return _alert(row)

        return self._db.read(read)

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        rule: str | None = None,
        status: AlertStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Alert]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()

        def read(connection: Connection) -> list[Alert]:
            query = _selected()
            if monitor is not None:
                query = query.where(_a.monitor_id == monitor_id(connection, monitor))
            if rule is not None:
                query = query.where(_a.rule == rule)
            if status is not None:
                query = query.where(_a.status == AlertStatus(status).value)
            query = query.order_by(_a.window_end.desc(), _a.id.desc())
            return [
                _alert(row) for row in connection.execute(query.offset(offset).limit(limit + 1))
            ]

        found = self._db.read(read)
        token = encode_offset(offset + limit) if len(found) > limit else None
        return Page(found[:limit], token)
