"""Tables and JSON shapes of ``noria monitor``."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table

from noria.cli.render import console
from noria.domain.alerts import Alert
from noria.domain.monitor_rules import rule_text
from noria.domain.monitors import Monitor, MonitorResult, format_duration, iso_time

if TYPE_CHECKING:
    from noria.monitoring.runner import MonitorRun

# The metric shown in the windows table, the first the window has.
_HEADLINE_METRICS = ("roc_auc", "accuracy", "f1", "r2", "rmse", "mae")


def monitor_dict(monitor: Monitor) -> dict[str, Any]:
    data = asdict(monitor)
    data["rules"] = [{**rule.to_dict(), "text": rule_text(rule)} for rule in monitor.rules]
    data["window"] = format_duration(monitor.window_ms)
    data["start"] = iso_time(monitor.start_ms)
    return data


def result_dict(result: MonitorResult) -> dict[str, Any]:
    data = asdict(result)
    data["figures"] = dict(result.figures)
    data["details"] = dict(result.details)
    data["window"] = iso_time(result.window_start)
    return data


def alert_dict(alert: Alert) -> dict[str, Any]:
    data = asdict(alert)
    data["uri"] = alert.entity().uri
    data["window"] = iso_time(alert.window_start)
    data["actions"] = [outcome.to_dict() for outcome in alert.actions]
    return data


def run_dict(run: MonitorRun) -> dict[str, Any]:
    return {
        "monitor": run.monitor,
        "now": iso_time(run.now_ms),
        "evaluated": [iso_time(r.window_start) for r in run.evaluated],
        "reevaluated": [iso_time(r.window_start) for r in run.reevaluated],
        "pending": run.pending,
        "fired": [alert_dict(alert) for alert in run.alerts.fired],
        "resolved": [alert.id for alert in run.alerts.resolved],
        "suppressed": [{"rule": rule, "window": iso_time(start)}
                       for rule, start in run.alerts.suppressed],
        "error": run.error,
    }  # fmt: skip


def print_monitors(found: list[Monitor]) -> None:
    table = Table("name", "deployment", "reference", "window", "features", "rules")
    for monitor in found:
        table.add_row(
            monitor.name, monitor.deployment, monitor.reference,
            format_duration(monitor.window_ms), str(len(monitor.features)),
            str(len(monitor.rules)),
        )  # fmt: skip
    console().print(table)


def print_monitor(monitor: Monitor) -> None:
    out = console()
    label = f", label {monitor.label_column}" if monitor.label_column else ""
    task = f", {monitor.task}" if monitor.task else ""
    out.print(
        f"{monitor.name}: deployment {monitor.deployment}, reference {monitor.reference}, "
        f"window {format_duration(monitor.window_ms)} from {iso_time(monitor.start_ms)}"
        f"{label}{task}",
        markup=False,
    )
    out.print(f"features: {', '.join(monitor.features)}", markup=False)
    for rule in monitor.rules:
        out.print(f"rule: {rule_text(rule)}", markup=False)


def print_windows(results: list[MonitorResult]) -> None:
    out = console()
    if not results:
        out.print("No window evaluated yet: run `noria monitor run NAME`.", markup=False)
        return
    table = _compact("window (UTC)", "rows", "drift", "drifted", "pred.", "performance",
                     "labels", "p99 ms", "err")  # fmt: skip
    for result in results:
        figure = result.figures.get
        drifted = [
            name.removeprefix("feature.").removesuffix(".drifted")
            for name, value in result.figures.items()
            if name.startswith("feature.") and name.endswith(".drifted") and value
        ]
        table.add_row(
            _when(result.window_start), str(result.rows), _share(figure("drift.share_drifted")),
            ", ".join(drifted) or "-", _yes(figure("prediction.drifted")),
            _performance(result), _share(figure("labels.coverage")),
            _number(figure("latency.p99_ms")), _rate(figure("errors.rate")),
        )  # fmt: skip
    out.print(table)


def print_alerts(alerts: list[Alert]) -> None:
    out = console()
    if not alerts:
        out.print("No alerts.", markup=False)
        return
    table = _compact("fired on", "severity", "status", "rule", "value", "windows", "actions")
    for alert in alerts:
        actions = ", ".join(f"{o.action.partition(':')[0]} {o.status.value}" for o in alert.actions)
        table.add_row(
            _when(alert.window_start), alert.severity.value, alert.status.value, alert.rule,
            f"{alert.value:.4g}", str(alert.occurrences), actions or "-",
        )  # fmt: skip
    out.print(table)


def print_run(run: MonitorRun) -> None:
    out = console()
    again = f", {len(run.reevaluated)} again after late labels" if run.reevaluated else ""
    later = f"; {run.pending} more due windows left for the next run" if run.pending else ""
    out.print(
        f"{run.monitor}: evaluated {len(run.evaluated)} window(s){again}{later}.", markup=False
    )
    for alert in run.alerts.fired:
        outcomes = "; ".join(f"{o.action}: {o.status.value} {o.detail}".rstrip()
                             for o in alert.actions)  # fmt: skip
        out.print(f"ALERT [{alert.severity.value}] {alert.message}", markup=False)
        if outcomes:
            out.print(f"  actions: {outcomes}", markup=False)
    for alert in run.alerts.resolved:
        out.print(f"resolved: {alert.rule} (alert {alert.id})", markup=False)
    for rule, start in run.alerts.suppressed:
        out.print(f"cooldown: {rule} held again at {iso_time(start)}, no new alert", markup=False)


def _compact(*columns: str) -> Table:
    """A table with light borders: the windows table has many columns for 80 characters."""
    table = Table(*columns, box=box.SIMPLE_HEAD, pad_edge=False)
    table.columns[0].no_wrap = True
    return table


def _when(ms: int) -> str:
    return iso_time(ms).replace("T", " ")[:16]


def _performance(result: MonitorResult) -> str:
    for metric in _HEADLINE_METRICS:
        value = result.figures.get(f"performance.{metric}")
        if value is not None:
            return f"{metric} {value:.3f}"
    return "-"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"  # error rates are small: one decimal


def _yes(value: float | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
