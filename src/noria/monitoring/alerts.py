"""Alert rules applied to the windows a run evaluated: fire, deduplicate, resolve, cool down.

For each rule, the stored series of its figure (back far enough to count consecutive windows)
is marked by :func:`~noria.domain.monitor_rules.breaches`, then each evaluated window, oldest
first, is judged against the rule's latest alert (:func:`~noria.domain.monitor_rules.decide`).
A fired alert runs its actions first and is stored with their outcomes, so a crash in between
repeats the actions rather than losing them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from noria.audit import AuditLog
from noria.domain.alerts import Alert, AlertRule, AlertStatus
from noria.domain.ids import new_id
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.monitor_rules import Decision, Point, breaches, decide
from noria.domain.monitors import Monitor, MonitorResult, iso_time, result_entity
from noria.lineage import LineageService
from noria.monitoring.actions import ActionRunner
from noria.ports.monitors import AlertRepo, MonitorRepo


@dataclass
class AlertChanges:
    fired: list[Alert] = field(default_factory=list)
    extended: list[Alert] = field(default_factory=list)  # still firing: deduplicated
    resolved: list[Alert] = field(default_factory=list)
    suppressed: list[tuple[str, int]] = field(default_factory=list)  # (rule, window start)


class AlertEvaluator:
    def __init__(
        self,
        monitors: MonitorRepo,
        alerts: AlertRepo,
        actions: ActionRunner,
        lineage: LineageService,
        audit: AuditLog,
    ) -> None:
        self._monitors = monitors
        self._alerts = alerts
        self._actions = actions
        self._lineage = lineage
        self._audit = audit

    def apply(
        self, monitor: Monitor, touched: Sequence[MonitorResult], context: Mapping[str, Any]
    ) -> AlertChanges:
        """Judge the ``touched`` windows (evaluated this run) with every rule; ``context``
        goes into action payloads (the deployment, the versions it serves)."""
        changes = AlertChanges()
        if not touched or not monitor.rules:
            return changes
        starts = {result.window_start for result in touched}
        for rule in monitor.rules:
            points = self._points(monitor, rule, min(starts), max(starts) + monitor.window_ms)
            latest = self._latest(monitor, rule)
            for point, breached in zip(points, breaches(rule, points), strict=True):
                if point.window_start not in starts:
                    continue
                decision = decide(rule, latest, point, breached)
                latest = self._act(
                    monitor,
                    rule,
                    decision,
                    latest=latest,
                    point=point,
                    context=context,
                    changes=changes,
                )
        return changes

    def _points(self, monitor: Monitor, rule: AlertRule, first: int, end: int) -> list[Point]:
        begin = max(monitor.start_ms, first - (rule.for_windows - 1) * monitor.window_ms)
        marks = self._monitors.result_marks(monitor.name, start_ms=begin, end_ms=end)
        values = dict(self._monitors.series(monitor.name, rule.figure, start_ms=begin, end_ms=end))
        return [
            Point(mark.window_start, mark.window_start + monitor.window_ms,
                  values.get(mark.window_start))
            for mark in marks
        ]  # fmt: skip

    def _latest(self, monitor: Monitor, rule: AlertRule) -> Alert | None:
        found = self._alerts.list_alerts(monitor=monitor.name, rule=rule.name, limit=1).items
        return found[0] if found else None

    def _act(
        self,
        monitor: Monitor,
        rule: AlertRule,
        decision: Decision,
        *,
        latest: Alert | None,
        point: Point,
        context: Mapping[str, Any],
        changes: AlertChanges,
    ) -> Alert | None:
        if decision is Decision.FIRE and point.value is not None:
            fired = self._fire(monitor, rule, point, context)
            changes.fired.append(fired)
            return fired
        if decision is Decision.EXTEND and latest is not None and point.value is not None:
            extended = self._alerts.update(
                replace(latest, last_window_end=point.window_end, last_value=point.value,
                        occurrences=latest.occurrences + 1)
            )  # fmt: skip
            changes.extended.append(extended)
            return extended
        if decision is Decision.RESOLVE and latest is not None:
            resolved = self._alerts.update(
                replace(latest, status=AlertStatus.RESOLVED, resolved_window_end=point.window_end)
            )
            after = {"status": "resolved", "window_end": iso_time(point.window_end)}
            self._audit.record(
                "alert.resolved", resolved.entity(), before={"status": "firing"}, after=after
            )
            changes.resolved.append(resolved)
            return resolved
        if decision is Decision.SUPPRESS:
            changes.suppressed.append((rule.name, point.window_start))
        return latest

    def _fire(
        self, monitor: Monitor, rule: AlertRule, point: Point, context: Mapping[str, Any]
    ) -> Alert:
        value = point.value if point.value is not None else float("nan")
        in_a_row = f" for {rule.for_windows} windows" if rule.for_windows > 1 else ""
        alert = Alert(
            id=new_id(),
            monitor=monitor.name,
            rule=rule.name,
            figure=rule.figure,
            operator=rule.operator,
            threshold=rule.threshold,
            severity=rule.severity,
            status=AlertStatus.FIRING,
            value=value,
            window_start=point.window_start,
            window_end=point.window_end,
            last_window_end=point.window_end,
            last_value=value,
            message=(
                f"{monitor.name}: {rule.figure} = {value:.4g} {rule.operator.value} "
                f"{rule.threshold:g}{in_a_row} (window {iso_time(point.window_start)})"
            ),
        )
        outcomes = self._actions.run(rule.actions, alert_payload(alert, monitor, context))
        stored = self._alerts.add(replace(alert, actions=outcomes))
        self._audit.record(
            "alert.fired",
            stored.entity(),
            after={
                "monitor": monitor.name,
                "rule": rule.name,
                "value": value,
                "window_start": iso_time(point.window_start),
                "actions": {outcome.action: outcome.status.value for outcome in outcomes},
            },
        )
        result = result_entity(monitor.name, point.window_start)
        self._lineage.record_many([LineageEdge(result, Relation.PRODUCED, stored.entity())])
        return stored


def alert_payload(alert: Alert, monitor: Monitor, context: Mapping[str, Any]) -> dict[str, Any]:
    """What webhooks receive and trigger events carry: ``{"event", "alert", "monitor", …}``."""
    return {
        "event": "alert.fired",
        "alert": {
            "id": alert.id,
            "uri": alert.entity().uri,
            "rule": alert.rule,
            "figure": alert.figure,
            "operator": alert.operator.value,
            "threshold": alert.threshold,
            "value": alert.value,
            "severity": alert.severity.value,
            "status": alert.status.value,
            "window_start": iso_time(alert.window_start),
            "window_end": iso_time(alert.window_end),
            "message": alert.message,
            "result": result_entity(monitor.name, alert.window_start).uri,
        },
        "monitor": {
            "name": monitor.name,
            "deployment": monitor.deployment,
            "reference": monitor.reference,
        },
        **context,
    }
