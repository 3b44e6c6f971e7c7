"""Monitors as users see them (``client.monitors``): create, look at, run; audited.

>>> client.monitors.create("credit-api", reference="datasets:/credit/3", window="1h",
...                        rules=["drift.share_drifted > 0.3 for 2 severity=critical"])
>>> run = client.monitors.run("credit-api")          # every due window, and late labels
>>> [alert.message for alert in run.fired]
>>> client.monitors.run_due()                         # all monitors: what the scheduler calls
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from noria.artifacts import ArtifactStore
from noria.audit import AuditLog
from noria.domain.alerts import Alert, AlertRule, AlertStatus
from noria.domain.entities import EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.monitor_rules import parse_rule
from noria.domain.monitors import Monitor, MonitorResult, Task, format_duration, parse_duration
from noria.domain.paging import Page
from noria.errors import Conflict, NoriaError, NotFound
from noria.lineage import LineageService
from noria.monitoring.actions import ActionRunner, RaiseEvent, WebhookPolicy
from noria.monitoring.alerts import AlertEvaluator
from noria.monitoring.definition import Grounds, MonitorSpec, TimeLike, resolve
from noria.monitoring.evaluate import Reference
from noria.monitoring.log_reader import DeploymentLog
from noria.monitoring.runner import MonitorRun, MonitorRunner, RunInputs
from noria.monitoring.spec_yaml import parse_monitor
from noria.monitoring.windows import align, plan_run, time_ms
from noria.ports.metadata import MetadataStore

if TYPE_CHECKING:
    from noria.datasets.service import DatasetService
    from noria.deployments.service import DeploymentService
    from noria.registry.service import ModelRegistry

logger = logging.getLogger("noria.monitoring")
_LIST_PAGE = 1000
# How long a run may hold a monitor before another process may take it over: a run that
# crashed (or was killed) frees it after this long.
LEASE_MS = 10 * 60_000


def _state(monitor: Monitor) -> dict[str, Any]:
    """The audited form of a monitor's declared parts."""
    return {
        "deployment": monitor.deployment,
        "reference": monitor.reference,
        "window": format_duration(monitor.window_ms),
        "features": list(monitor.features),
        "label_column": monitor.label_column,
        "task": monitor.task,
        "rules": [rule.to_dict() for rule in monitor.rules],
    }


class MonitorService:
    """Monitors over one metadata store; runs read the prediction log from ``artifacts``.

    ``raise_event`` is the pipelines' event trigger (``client.triggers.raise_event``) that
    ``trigger`` actions call; without it they are recorded as skipped.
    """

    def __init__(
        self,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        *,
        datasets: DatasetService,
        deployments: DeploymentService,
        registry: ModelRegistry,
        lineage: LineageService,
        audit: AuditLog,
        user: str,
        raise_event: RaiseEvent | None = None,
        webhook: WebhookPolicy | None = None,
    ) -> None:
        self._repo = metadata.monitors
        self._alerts = metadata.alerts
        self._artifacts = artifacts
        self._datasets = datasets
        self._deployments = deployments
        self._registry = registry
        self._lineage = lineage
        self._audit = audit
        self._user = user
        actions = ActionRunner(raise_event=raise_event, webhook=webhook)
        evaluator = AlertEvaluator(self._repo, self._alerts, actions, lineage, audit)
        self._runner = MonitorRunner(self._repo, artifacts, evaluator, lineage, audit)
        # Names this service in monitor leases: unique per process and per service.
        self._owner = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"

    # -- records -------------------------------------------------------------------

    def create(
        self,
        deployment: str,
        *,
        reference: str,
        window: str | int = "1h",
        name: str | None = None,
        features: Sequence[str] | None = None,
        label_column: str | None = None,
        task: Task | None = None,
        rules: Sequence[str | AlertRule] = (),
        delay: str | int = "2m",
        label_horizon: str | int = "7d",
        start: TimeLike | None = None,
        description: str = "",
        replace: bool = False,
    ) -> Monitor:
        """Watch ``deployment`` per ``window`` against ``reference`` (``datasets:/name/3``).

        ``rules`` are one-line rules (``"drift.share_drifted > 0.3 for 2"``) or AlertRules;
        ``start`` is the first window (default: the current one). With ``replace``, a
        monitor of that name gets this definition instead, keeping its results and alerts
        (see :meth:`create_monitor`).
        """
        spec = MonitorSpec(
            deployment=deployment,
            reference=reference,
            window=window,
            name=name,
            features=None if features is None else tuple(features),
            label_column=label_column,
            task=task,
            rules=tuple(parse_rule(r) if isinstance(r, str) else r for r in rules),
            delay=delay,
            label_horizon=label_horizon,
            start=start,
            description=description,
        )
        return self.create_monitor(spec, replace=replace)

    def create_from_yaml(
        self, text: str, *, source: str = "monitor.yaml", replace: bool = False
    ) -> Monitor:
        """A monitor from YAML (see :mod:`noria.monitoring.spec_yaml`)."""
        return self.create_monitor(parse_monitor(text, source=source), replace=replace)

    def create_monitor(self, spec: MonitorSpec, *, replace: bool = False) -> Monitor:
        """Check ``spec`` against the deployment, its prediction log and the reference; store.

        With ``replace``, a monitor of the same name (created if there is none) gets the new
        definition: its results and alerts stay, its deployment and window may not change
        (``Conflict``), and without ``start`` its windows go on from where they were."""
        existing = self._existing(spec) if replace else None
        deployment = self._deployments.get(spec.deployment)
        served = self._deployments.resolve(deployment)
        logged = DeploymentLog(self._artifacts, deployment, served).check_logged()
        version = self._datasets.get(spec.reference)
        primary = served.get(deployment.primary.model_uri)
        grounds = Grounds(
            reference=version,
            profile=self._datasets.profile(version),
            schema=self._datasets.schema(version),
            logged_inputs=logged,
            served=None
            if primary is None
            else self._registry.get_version(deployment.primary.model_name, primary),
        )
        start = time_ms(spec.start, what="start")
        window_ms = parse_duration(spec.window, what="window")
        if start is None:
            start = existing.start_ms if existing is not None else _now_ms()
        monitor = resolve(spec, grounds, start_ms=align(start, window_ms), user=self._user)
        if existing is not None:
            return self._replace(existing, monitor, version.entity())
        created = self._repo.create(monitor)
        self._audit.record("monitor.created", created.entity(), after=_state(created))
        self._lineage.record_many(
            [
                LineageEdge(deployment.entity(), Relation.CONSUMED, created.entity()),
                LineageEdge(version.entity(), Relation.CONSUMED, created.entity()),
            ]
        )
        return created

    def _existing(self, spec: MonitorSpec) -> Monitor | None:
        with suppress(NotFound):
            return self._repo.get(spec.name or spec.deployment)
        return None

    def _replace(self, existing: Monitor, monitor: Monitor, reference: EntityRef) -> Monitor:
        replaced = self._repo.replace(monitor)
        self._audit.record(
            "monitor.updated", replaced.entity(), before=_state(existing), after=_state(replaced)
        )
        self._lineage.record_many([LineageEdge(reference, Relation.CONSUMED, replaced.entity())])
        self._resolve_orphans(replaced)
        return replaced

    def _resolve_orphans(self, monitor: Monitor) -> None:
        """Resolve the firing alerts of rules the monitor no longer has: no window would
        ever judge them again (a rule's default name holds its threshold)."""
        kept = {rule.name for rule in monitor.rules}
        firing = self._alerts.list_alerts(
            monitor=monitor.name, status=AlertStatus.FIRING, limit=_LIST_PAGE
        )
        for alert in firing.items:
            if alert.rule in kept:
                continue
            resolved = self._alerts.update(
                dataclasses.replace(
                    alert, status=AlertStatus.RESOLVED, resolved_window_end=alert.last_window_end
                )
            )
            self._audit.record(
                "alert.resolved",
                resolved.entity(),
                before={"status": "firing"},
                after={"status": "resolved", "reason": "its rule was removed from the monitor"},
            )

    def get(self, name: str) -> Monitor:
        return self._repo.get(name)

    def list_monitors(
        self, *, deployment: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Monitor]:
        return self._repo.list_monitors(deployment=deployment, limit=limit, page_token=page_token)

    def delete(self, name: str) -> Monitor:
        """Delete the monitor with its results and alerts."""
        deleted = self._repo.delete(name)
        self._audit.record("monitor.deleted", deleted.entity(), before=_state(deleted))
        return deleted

    def results(
        self,
        name: str,
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[MonitorResult]:
        """Windows starting in ``[start, end)``, newest first."""
        return self._repo.list_results(
            name,
            start_ms=time_ms(start, what="start"),
            end_ms=time_ms(end, what="end"),
            limit=limit,
            page_token=page_token,
        )

    def series(
        self, name: str, figure: str, *, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> list[tuple[int, float]]:
        """``(window start ms, value)`` of one figure, oldest first."""
        return self._repo.series(
            name, figure, start_ms=time_ms(start, what="start"), end_ms=time_ms(end, what="end")
        )

    def alerts(
        self,
        name: str | None = None,
        *,
        status: AlertStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Alert]:
        """Alerts, newest window first; of one monitor when ``name`` is given."""
        return self._alerts.list_alerts(
            monitor=name, status=status, limit=limit, page_token=page_token
        )

    # -- runs ----------------------------------------------------------------------

    def run(self, name: str, now: TimeLike | None = None) -> MonitorRun:
        """Evaluate every due window not yet evaluated, and windows whose labels grew.

        ``Conflict`` when another process (a scheduler) is evaluating the monitor now."""
        now_ms = _now_ms(now)
        monitor = self._repo.get(name)
        with self._lease(name) as held:
            if not held:
                raise Conflict(
                    f"Monitor {name!r} is being evaluated by another process (a scheduler, or "
                    f"another `noria monitor run`); run it again when that one is done (a "
                    f"crashed process's claim lapses after {LEASE_MS // 60_000} minutes)."
                )
            return self._runner.run(self._inputs(monitor, now_ms), now_ms)

    def run_due(self, now: TimeLike | None = None) -> list[MonitorRun]:
        """Run every monitor; one failing monitor is reported in its run's ``error`` and the
        others still run (the scheduler calls this on every tick)."""
        now_ms = _now_ms(now)
        runs: list[MonitorRun] = []
        token: str | None = None
        while True:
            page = self._repo.list_monitors(limit=_LIST_PAGE, page_token=token)
            runs.extend(self._run_safely(monitor, now_ms) for monitor in page.items)
            if page.next_page_token is None:
                return runs
            token = page.next_page_token

    @contextmanager
    def _lease(self, name: str) -> Iterator[bool]:
        """Hold the monitor's lease for a run (wall-clock time: ``now`` may be simulated), so
        two processes never evaluate it, and fire its alerts' actions, at once."""
        held = self._repo.claim(
            name, owner=self._owner, now_ms=int(time.time() * 1000), lease_ms=LEASE_MS
        )
        try:
            yield held
        finally:
            if held:
                with suppress(NoriaError):  # a lapsed lease frees itself
                    self._repo.release(name, owner=self._owner)

    def _run_safely(self, monitor: Monitor, now_ms: int) -> MonitorRun:
        try:
            with self._lease(monitor.name) as held:
                if not held:
                    return MonitorRun(monitor.name, now_ms, busy=True)
                return self._runner.run(self._inputs(monitor, now_ms), now_ms)
        except NoriaError as exc:
            error = exc.message
        except Exception as exc:  # one broken monitor must not stop the others
            logger.exception("Monitor %s failed", monitor.name)
            error = f"{type(exc).__name__}: {exc}"
        logger.warning("Monitor %s: %s", monitor.name, error)
        return MonitorRun(monitor.name, now_ms, error=error)

    def _inputs(self, monitor: Monitor, now_ms: int) -> RunInputs:
        deployment = self._deployments.get(monitor.deployment)
        window = monitor.window_ms
        horizon = max(monitor.start_ms, align(now_ms - monitor.label_horizon_ms, window) - window)
        marks = self._repo.result_marks(monitor.name, start_ms=horizon)
        newest = self._repo.list_results(monitor.name, limit=1).items
        due_from = monitor.start_ms if not newest else min(horizon, newest[0].window_start + window)
        return RunInputs(
            monitor=monitor,
            deployment=deployment,
            served=self._deployments.resolve(deployment),
            plan=plan_run(monitor, now_ms, marks, due_from=due_from),
            marks={mark.window_start: mark for mark in marks},
            reference=lambda: self._reference(monitor),
        )

    def _reference(self, monitor: Monitor) -> Reference:
        from noria.datasets.schema import DatasetSchema

        version = self._datasets.get(monitor.reference)
        schema = self._datasets.schema(version)
        watched = [column for column in schema.columns if column.name in monitor.features]
        return Reference(
            uri=version.uri,
            profile=self._datasets.profile(version),
            schema=DatasetSchema(columns=watched, row_count=None),
            features=monitor.features,
            label_column=monitor.label_column,
            task=monitor.task,
        )


def _now_ms(now: TimeLike | None = None) -> int:
    given = time_ms(now, what="now")
    return time.time_ns() // 1_000_000 if given is None else given
