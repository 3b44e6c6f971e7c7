"""Monitors as users see them (``client.monitors``): create, look at, run; audited.

>>> client.monitors.create("credit-api", reference="datasets:/credit/3", window="1h",
...                        rules=["drift.share_drifted > 0.3 for 2 severity=critical"])
>>> run = client.monitors.run("credit-api")          # every due window, and late labels
>>> [alert.message for alert in run.fired]
>>> client.monitors.run_due()                         # all monitors: what the scheduler calls
"""

from __future__ import annotations

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
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.monitor_rules import parse_rule
from noria.domain.monitors import Monitor, MonitorResult, Task, format_duration, parse_duration
from noria.domain.paging import Page
from noria.errors import Conflict, NoriaError
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
    ) -> Monitor:
        """Watch ``deployment`` per ``window`` against ``reference`` (``datasets:/name/3``).

        ``rules`` are one-line rules (``"drift.share_drifted > 0.3 for 2"``) or AlertRules;
        ``start`` is the first window (default: the current one).
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
        return self.create_monitor(spec)

    def create_from_yaml(self, text: str, *, source: str = "monitor.yaml") -> Monitor:
        """A monitor from YAML (see :mod:`noria.monitoring.spec_yaml`)."""
        return self.create_monitor(parse_monitor(text, source=source))

    def create_monitor(self, spec: MonitorSpec) -> Monitor:
        """Check ``spec`` against the deployment, its prediction log and the reference; store."""
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
        first = _now_ms() if start is None else start
        window_ms = parse_duration(spec.window, what="window")
        monitor = resolve(spec, grounds, start_ms=align(first, window_ms), user=self._user)
        created = self._repo.create(monitor)
        self._audit.record("monitor.created", created.entity(), after=_state(created))
        self._lineage.record_many(
            [
                LineageEdge(deployment.entity(), Relation.CONSUMED, created.entity()),
                LineageEdge(version.entity(), Relation.CONSUMED, created.entity()),
            ]
        )
        return created

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
