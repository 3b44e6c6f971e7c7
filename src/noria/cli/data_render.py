"""Tables for validation reports, drift reports and profiles in the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from noria.cli.render import console

if TYPE_CHECKING:
    from noria.datasets.drift import DriftReport
    from noria.datasets.profiles import DatasetProfile
    from noria.datasets.validation import ValidationReport


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def anomaly_table(report: ValidationReport) -> None:
    out = console()
    if not report.anomalies:
        out.print(f"No anomaly in {report.row_count:,} rows.", markup=False)
        return
    order = {"error": 0, "warning": 1}
    table = Table("severity", "column", "kind", "message", "examples")
    for anomaly in sorted(report.anomalies, key=lambda a: order.get(a.severity, 2)):
        examples = ", ".join(repr(example) for example in anomaly.examples[:5])
        table.add_row(
            anomaly.severity, anomaly.column or "-", anomaly.kind, anomaly.message, examples
        )
    out.print(table)
    errors = sum(anomaly.severity == "error" for anomaly in report.anomalies)
    warnings = len(report.anomalies) - errors
    out.print(f"{errors} error(s), {warnings} warning(s) in {report.row_count:,} rows.")


def drift_table(report: DriftReport) -> None:
    out = console()
    table = Table("column", "test", "statistic", "p-value", "threshold", "drifted")
    for column in report.columns:
        table.add_row(
            column.column,
            column.test,
            _number(column.statistic),
            _number(column.p_value),
            _number(column.threshold),
            "yes" if column.drifted else "no",
        )
    out.print(table)
    verdict = "DRIFTED" if report.drifted else "no drift"
    out.print(
        f"{verdict}: {report.drift_share:.0%} of columns drifted "
        f"(threshold {report.share_threshold:.0%}).",
        markup=False,
    )


def profile_table(profile: DatasetProfile) -> None:
    out = console()
    table = Table("column", "kind", "count", "nulls", "distinct~", "mean", "std", "min", "max")
    for column in profile.columns:
        table.add_row(
            column.name,
            column.kind,
            _number(column.count),
            _number(column.null_count),
            _number(column.distinct_estimate),
            _number(column.mean),
            _number(column.std),
            _number(column.min),
            _number(column.max),
        )
    out.print(table)
    out.print(f"{profile.row_count:,} rows.", markup=False)
