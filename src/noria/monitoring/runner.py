"""One monitor run: evaluate the due windows, re-evaluate windows whose labels grew, alert.

Late labels: a window's result remembers how many of its rows had labels. A run reads the
labels that arrived since the oldest window it looks at; if any arrived after a recent window
was computed (with a margin: the feedback log writes its segments up to a minute late), the
windows within the label horizon are read again, and each one whose label count grew is
evaluated again (its revision goes up) and judged again by the rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.audit import AuditLog
from noria.domain.alerts import Alert
from noria.domain.deployments import Deployment
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.monitors import Monitor, MonitorResult, ResultMark, iso_time
from noria.lineage import LineageService
from noria.monitoring.alerts import AlertChanges, AlertEvaluator
from noria.monitoring.evaluate import Reference, evaluate_window
from noria.monitoring.log_reader import DeploymentLog, labels_since, split_windows, with_labels
from noria.monitoring.windows import Plan, Window, contiguous_runs
from noria.ports.monitors import MonitorRepo

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.artifacts import ArtifactStore

LABEL_WRITE_MARGIN_MS = 5 * 60_000  # labels are written up to a minute after they arrive
WINDOWS_PER_READ = 48  # adjacent windows read from the log at once


@dataclass
class MonitorRun:
    """What one run did. ``error`` is set (and nothing else) when the run failed."""

    monitor: str
    now_ms: int
    evaluated: list[MonitorResult] = field(default_factory=list)  # first evaluations
    reevaluated: list[MonitorResult] = field(default_factory=list)  # late labels arrived
    alerts: AlertChanges = field(default_factory=AlertChanges)
    pending: int = 0  # due windows left for a later run (a long backlog)
    error: str | None = None
    busy: bool = False  # another process held the monitor's lease: this run did nothing

    @property
    def fired(self) -> list[Alert]:
        return self.alerts.fired


@dataclass(frozen=True)
class RunInputs:
    """What the service gathered for one run."""

    monitor: Monitor
    deployment: Deployment
    served: dict[str, int | None]
    plan: Plan
    marks: dict[int, ResultMark]
    reference: Callable[[], Reference]  # read only when a window needs it


class MonitorRunner:
    def __init__(
        self,
        repo: MonitorRepo,
        artifacts: ArtifactStore,
        alerts: AlertEvaluator,
        lineage: LineageService,
        audit: AuditLog,
    ) -> None:
        self._repo = repo
        self._artifacts = artifacts
        self._alerts = alerts
        self._lineage = lineage
        self._audit = audit

    def run(self, inputs: RunInputs, now_ms: int) -> MonitorRun:
        monitor, plan = inputs.monitor, inputs.plan
        done = MonitorRun(monitor.name, now_ms, pending=plan.pending)
        looked_at = [*plan.due, *plan.recheck]
        if not looked_at:
            return done
        labels = labels_since(self._artifacts, min(w.start_ms for w in looked_at))
        windows = sorted({*plan.due, *_maybe_relabelled(labels, plan, inputs.marks)})
        try:
            self._evaluate(inputs, windows, labels, done)
        finally:
            # Windows stored before a failure are judged too: a later run will not see
            # them as due again.
            touched = sorted([*done.evaluated, *done.reevaluated], key=lambda r: r.window_start)
            done.alerts = self._alerts.apply(monitor, touched, _context(inputs))
        return done

    def _evaluate(
        self, inputs: RunInputs, windows: list[Window], labels: pa.Table, done: MonitorRun
    ) -> None:
        monitor = inputs.monitor
        log = DeploymentLog(self._artifacts, inputs.deployment, inputs.served)
        reference: Reference | None = None
        for run in contiguous_runs(windows, most=WINDOWS_PER_READ):
            table = with_labels(log.rows(run[0].start_ms, run[-1].end_ms), labels)
            for window, rows in split_windows(table, run).items():
                mark = inputs.marks.get(window.start_ms)
                if mark is not None and _label_count(rows) <= mark.labels:
                    continue  # evaluated before, and no new label since
                reference = reference or inputs.reference()
                # Wall-clock time, not `now`: label arrival times are compared with it.
                computed_at = time.time_ns() // 1_000_000
                result = evaluate_window(
                    monitor.name, window, rows, reference, computed_at=computed_at
                )
                saved = self._repo.save_result(result)
                self._record(monitor, inputs.deployment, saved, mark)
                (done.evaluated if mark is None else done.reevaluated).append(saved)

    def _record(
        self,
        monitor: Monitor,
        deployment: Deployment,
        result: MonitorResult,
        before: ResultMark | None,
    ) -> None:
        node = result.entity()
        name, _, version = monitor.reference.removeprefix("datasets:/").rpartition("/")
        edges = [
            LineageEdge(monitor.entity(), Relation.PRODUCED, node),
            LineageEdge(deployment.entity(), Relation.CONSUMED, node),
            LineageEdge(
                EntityRef(EntityKind.DATASET_VERSION, f"{name}/{version}"), Relation.CONSUMED, node
            ),
        ]
        for served in result.details.get("versions", {}):
            if "/" in served:  # a registered version (not a run's or a folder's model)
                edges.append(
                    LineageEdge(EntityRef(EntityKind.MODEL_VERSION, served), Relation.DEPLOYED_AS,
                                deployment.entity())
                )  # fmt: skip
        self._lineage.record_many(edges)
        if before is not None:
            self._audit.record(
                "monitor.window_reevaluated",
                node,
                before={"labels": before.labels, "window_start": iso_time(result.window_start)},
                after={"labels": result.labels, "revision": result.revision},
            )


def _maybe_relabelled(labels: pa.Table, plan: Plan, marks: dict[int, ResultMark]) -> set[Window]:
    """The recheck windows computed before the latest label arrived: only they can have
    gained labels (a label does not say which window its prediction fell in)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not plan.recheck or labels.num_rows == 0:
        return set()
    latest = pc.max(pc.cast(labels["time"], pa.int64())).as_py()
    return {
        window
        for window in plan.recheck
        if window.start_ms in marks
        and marks[window.start_ms].computed_at - LABEL_WRITE_MARGIN_MS <= latest
    }


def _label_count(rows: pa.Table) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(pc.is_valid(rows["label"])).as_py() or 0) if rows.num_rows else 0


def _context(inputs: RunInputs) -> dict[str, Any]:
    """Extra payload for alert actions: what the deployment serves now."""
    return {
        "deployment": {
            "name": inputs.deployment.name,
            "routes": [
                {"model": route.model_uri, "role": route.role.value,
                 "version": inputs.served.get(route.model_uri)}
                for route in inputs.deployment.routes
            ],
        }
    }  # fmt: skip
