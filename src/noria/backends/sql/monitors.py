"""Monitors and their per-window results in SQL; a window's figures are rows of their own."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from noria.backends.sql.database import SqlDatabase
from noria.backends.sql.experiments import decode_offset, encode_offset
from noria.backends.sql.monitor_tables import alerts, monitor_figures, monitor_results, monitors
from noria.backends.sql.tables import now_ms
from noria.domain.alerts import AlertRule
from noria.domain.monitors import Monitor, MonitorResult, ResultMark, format_duration
from noria.domain.paging import Page, check_page_size
from noria.errors import AlreadyExists, Conflict, NotFound

_m = monitors.c
_r = monitor_results.c
_f = monitor_figures.c


def monitor_not_found(name: str) -> NotFound:
    return NotFound(
        f"Monitor {name!r} not found: list monitors with `noria monitor list`, or create one "
        "with `noria monitor create`."
    )


def monitor_id(connection: Connection, name: str) -> int:
    found = connection.execute(select(_m.id).where(_m.name == name)).scalar()
    if found is None:
        raise monitor_not_found(name)
    return int(found)


def _monitor(row: Row[Any]) -> Monitor:
    return Monitor(
        name=row.name,
        deployment=row.deployment,
        reference=row.reference,
        window_ms=row.window_ms,
        features=tuple(json.loads(row.features)),
        start_ms=row.start_ms,
        label_column=row.label_column,
        task=row.task,
        rules=tuple(AlertRule.from_dict(rule) for rule in json.loads(row.rules)),
        delay_ms=row.delay_ms,
        label_horizon_ms=row.label_horizon_ms,
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _definition(monitor: Monitor) -> dict[str, Any]:
    """The columns a new definition may change (not the name, deployment or window)."""
    return {
        "reference": monitor.reference,
        "start_ms": monitor.start_ms,
        "delay_ms": monitor.delay_ms,
        "label_horizon_ms": monitor.label_horizon_ms,
        "label_column": monitor.label_column,
        "task": monitor.task,
        "features": json.dumps(list(monitor.features)),
        "rules": json.dumps([rule.to_dict() for rule in monitor.rules]),
        "description": monitor.description,
    }


def _window_range(query: Select[Any], start_ms: int | None, end_ms: int | None) -> Select[Any]:
    column = query.selected_columns.window_start
    if start_ms is not None:
        query = query.where(column >= start_ms)
    if end_ms is not None:
        query = query.where(column < end_ms)
    return query


def _results(
    connection: Connection, ident: int, name: str, rows: Sequence[Row[Any]]
) -> list[MonitorResult]:
    figures: defaultdict[int, dict[str, float]] = defaultdict(dict)
    starts = [row.window_start for row in rows]
    if starts:
        query = select(_f.window_start, _f.figure, _f.value).where(
            _f.monitor_id == ident, _f.window_start.in_(starts)
        )
        for start, figure, value in connection.execute(query):
            figures[start][figure] = value
    return [
        MonitorResult(
            monitor=name,
            window_start=row.window_start,
            window_end=row.window_end,
            rows=row.row_count,
            labels=row.label_count,
            figures=figures[row.window_start],
            details=json.loads(row.details),
            computed_at=row.computed_at,
            revision=row.revision,
        )
        for row in rows
    ]


class SqlMonitorRepo:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def create(self, monitor: Monitor) -> Monitor:
        self._db.ensure_ready()

        def write(connection: Connection) -> Monitor:
            if connection.execute(select(_m.id).where(_m.name == monitor.name)).first():
                raise _taken(monitor.name)
            try:
                connection.execute(
                    insert(monitors).values(
                        name=monitor.name,
                        deployment=monitor.deployment,
                        window_ms=monitor.window_ms,
                        created_by=monitor.created_by,
                        created_at=now_ms(),
                        **_definition(monitor),
                    )
                )
            except IntegrityError as exc:  # a concurrent writer took the name meanwhile
                raise _taken(monitor.name) from exc
            return _monitor(
                connection.execute(select(monitors).where(_m.name == monitor.name)).one()
            )

        return self._db.write(write)

    def replace(self, monitor: Monitor) -> Monitor:
        self._db.ensure_ready()

        def write(connection: Connection) -> Monitor:
            row = connection.execute(select(monitors).where(_m.name == monitor.name)).first()
            if row is None:
                raise monitor_not_found(monitor.name)
            if (row.deployment, row.window_ms) != (monitor.deployment, monitor.window_ms):
                raise Conflict(
                    f"Monitor {monitor.name!r} watches {row.deployment!r} per "
                    f"{format_duration(row.window_ms)} window; a new definition must keep both "
                    f"(got {monitor.deployment!r}, {format_duration(monitor.window_ms)}): its "
                    "results are per window. Create a monitor of another name instead."
                )
            connection.execute(
                update(monitors).where(_m.id == row.id).values(**_definition(monitor))
            )
            return _monitor(connection.execute(select(monitors).where(_m.id == row.id)).one())

        return self._db.write(write)

    def get(self, name: str) -> Monitor:
        self._db.ensure_ready()

        def read(connection: Connection) -> Monitor:
            row = connection.execute(select(monitors).where(_m.name == name)).first()
            if row is None:
                raise monitor_not_found(name)
            return _monitor(row)

        return self._db.read(read)

    def list_monitors(
        self, *, deployment: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Monitor]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()
        query = select(monitors).order_by(_m.name).offset(offset).limit(limit + 1)
        if deployment is not None:
            query = query.where(_m.deployment == deployment)
        found = self._db.read(lambda c: [_monitor(row) for row in c.execute(query)])
        token = encode_offset(offset + limit) if len(found) > limit else None
        return Page(found[:limit], token)

    def delete(self, name: str) -> Monitor:
        self._db.ensure_ready()

        def write(connection: Connection) -> Monitor:
            row = connection.execute(select(monitors).where(_m.name == name)).first()
            if row is None:
                raise monitor_not_found(name)
            # Children by hand: SQLite enforces ON DELETE CASCADE, but be explicit for both.
            for table in (alerts, monitor_figures, monitor_results):
                connection.execute(delete(table).where(table.c.monitor_id == row.id))
            connection.execute(delete(monitors).where(_m.id == row.id))
            return _monitor(row)

        return self._db.write(write)

    def claim(self, name: str, *, owner: str, now_ms: int, lease_ms: int) -> bool:
        self._db.ensure_ready()
        free = or_(_m.lease_until.is_(None), _m.lease_until <= now_ms, _m.lease_owner == owner)
        taking = (
            update(monitors)
            .where(_m.name == name, free)
            .values(lease_owner=owner, lease_until=now_ms + lease_ms)
        )

        def write(connection: Connection) -> bool:
            # One conditional UPDATE: of two processes claiming at once, one matches the row.
            if connection.execute(taking).rowcount == 1:
                return True
            if connection.execute(select(_m.id).where(_m.name == name)).first() is None:
                raise monitor_not_found(name)
            return False

        return self._db.write(write)

    def release(self, name: str, *, owner: str) -> None:
        self._db.ensure_ready()
        freeing = (
            update(monitors)
            .where(_m.name == name, _m.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )

        def write(connection: Connection) -> None:
            connection.execute(freeing)

        self._db.write(write)

    def save_result(self, result: MonitorResult) -> MonitorResult:
        self._db.ensure_ready()

        def write(connection: Connection) -> MonitorResult:
            ident = monitor_id(connection, result.monitor)
            where = (_r.monitor_id == ident, _r.window_start == result.window_start)
            previous = connection.execute(select(_r.revision).where(*where)).scalar()
            connection.execute(delete(monitor_results).where(*where))
            connection.execute(
                delete(monitor_figures).where(
                    _f.monitor_id == ident, _f.window_start == result.window_start
                )
            )
            revision = (previous or 0) + 1
            connection.execute(
                insert(monitor_results).values(
                    monitor_id=ident,
                    window_start=result.window_start,
                    window_end=result.window_end,
                    row_count=result.rows,
                    label_count=result.labels,
                    computed_at=result.computed_at or now_ms(),
                    revision=revision,
                    details=json.dumps(result.details, default=str),
                )
            )
            if result.figures:
                connection.execute(
                    insert(monitor_figures),
                    [
                        {"monitor_id": ident, "figure": figure,
                         "window_start": result.window_start, "value": value}
                        for figure, value in result.figures.items()
                    ],
                )  # fmt: skip
            row = connection.execute(select(monitor_results).where(*where)).one()
            return _results(connection, ident, result.monitor, [row])[0]

        return self._db.write(write)

    def list_results(
        self,
        monitor: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[MonitorResult]:
        check_page_size(limit)
        offset = decode_offset(page_token)
        self._db.ensure_ready()

        def read(connection: Connection) -> list[MonitorResult]:
            ident = monitor_id(connection, monitor)
            query = select(monitor_results).where(_r.monitor_id == ident)
            query = _window_range(query, start_ms, end_ms)
            query = query.order_by(_r.window_start.desc()).offset(offset).limit(limit + 1)
            return _results(connection, ident, monitor, connection.execute(query).all())

        found = self._db.read(read)
        token = encode_offset(offset + limit) if len(found) > limit else None
        return Page(found[:limit], token)

    def result_marks(
        self, monitor: str, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[ResultMark]:
        self._db.ensure_ready()

        def read(connection: Connection) -> list[ResultMark]:
            ident = monitor_id(connection, monitor)
            query = select(_r.window_start, _r.label_count, _r.computed_at).where(
                _r.monitor_id == ident
            )
            query = _window_range(query, start_ms, end_ms).order_by(_r.window_start)
            return [ResultMark(*row) for row in connection.execute(query)]

        return self._db.read(read)

    def series(
        self, monitor: str, figure: str, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[tuple[int, float]]:
        self._db.ensure_ready()

        def read(connection: Connection) -> list[tuple[int, float]]:
            ident = monitor_id(connection, monitor)
            query = select(_f.window_start, _f.value).where(
                _f.monitor_id == ident, _f.figure == figure
            )
            query = _window_range(query, start_ms, end_ms).order_by(_f.window_start)
            return [(int(row[0]), float(row[1])) for row in connection.execute(query)]

        return self._db.read(read)


def _taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Monitor {name!r} already exists: pick another name with --name, or delete it with "
        f"`noria monitor delete {name}`."
    )
