"""Ports of the monitoring records: monitors with their per-window results, and alerts."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from noria.domain.alerts import Alert, AlertStatus
from noria.domain.monitors import Monitor, MonitorResult, ResultMark
from noria.domain.paging import Page


@runtime_checkable
class MonitorRepo(Protocol):
    def create(self, monitor: Monitor) -> Monitor:
        """Store a new monitor; the store sets ``created_at``. ``AlreadyExists`` for a taken
        name; ``NotFound`` names nothing here (the service checks the deployment)."""
        ...

    def get(self, name: str) -> Monitor:
        """Raises ``NotFound`` naming the monitor."""
        ...

    def list_monitors(
        self, *, deployment: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Monitor]:
        """By name; with ``deployment``, only the monitors watching it."""
        ...

    def replace(self, monitor: Monitor) -> Monitor:
        """Store a new definition for the monitor named ``monitor.name``, keeping its
        creation, lease, results and alerts; returns what is stored. ``NotFound`` names the
        monitor; ``Conflict`` when the deployment or window differ (results are per window
        of one deployment's traffic)."""
        ...

    def delete(self, name: str) -> Monitor:
        """Remove the monitor with its results and alerts; returns what was stored."""
        ...

    def claim(self, name: str, *, owner: str, now_ms: int, lease_ms: int) -> bool:
        """Take the monitor's lease until ``now_ms + lease_ms`` when nobody holds it, it
        expired, or ``owner`` holds it already; False when another owner holds it.
        ``NotFound`` names the monitor."""
        ...

    def release(self, name: str, *, owner: str) -> None:
        """Give the lease back if ``owner`` holds it (a deleted monitor is not an error)."""
        ...

    def save_result(self, result: MonitorResult) -> MonitorResult:
        """Store one window's result, replacing an earlier one of the same window; the stored
        ``revision`` is one more than the replaced one's (1 for a first result)."""
        ...

    def list_results(
        self,
        monitor: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[MonitorResult]:
        """Results whose window starts in ``[start_ms, end_ms)``, newest window first."""
        ...

    def result_marks(
        self, monitor: str, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[ResultMark]:
        """Every evaluated window starting in ``[start_ms, end_ms)``, oldest first, without
        figures: what the scheduler needs to find due windows and late labels."""
        ...

    def series(
        self, monitor: str, figure: str, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[tuple[int, float]]:
        """``(window start, value)`` of one figure, oldest first; windows without it are
        left out."""
        ...


@runtime_checkable
class AlertRepo(Protocol):
    def add(self, alert: Alert) -> Alert:
        """Store a fired alert; the store sets ``fired_at`` and ``updated_at``.
        ``NotFound`` when its monitor does not exist."""
        ...

    def update(self, alert: Alert) -> Alert:
        """Replace the alert's status, last window and value, occurrences, resolution and
        action outcomes (the rest never changes). Raises ``NotFound``."""
        ...

    def get(self, alert_id: str) -> Alert:
        """Raises ``NotFound`` naming the alert."""
        ...

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        rule: str | None = None,
        status: AlertStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Alert]:
        """Newest window first (ties: newest alert first)."""
        ...
