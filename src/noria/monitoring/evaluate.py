"""One window's figures, from its log rows (joined with their labels) and the reference.

The reference is a dataset version's STORED profile and schema (read once per run, never
recomputed from its rows). Figures are flat names → finite numbers:

- ``rows``, ``requests``, ``labels.count``, ``labels.coverage`` (labelled share of rows);
- ``drift.share_drifted`` / ``drifted_count`` / ``tested_count`` and, per feature,
  ``feature.<name>.drift_score`` (the test's statistic), ``.p_value`` (p-value tests only),
  ``.drifted`` (1 or 0) — the data issue's tests, Bonferroni-corrected across features
  (windows of at most 1,000 rows always get p-value tests: see :func:`window_tests`);
- ``prediction.drift_score`` / ``.p_value`` / ``.drifted``: the answers against the
  reference's label column;
- ``quality.anomalies`` / ``.errors`` / ``.warnings`` and ``quality.<kind>`` counts: the window
  validated against the reference schema's columns for the features;
- ``latency.p50_ms`` / ``p95_ms`` / ``p99_ms`` / ``mean_ms``, per request;
- ``errors.count`` / ``errors.rate`` (requests answered 5xx: the model or server failed) and
  ``errors.invalid_count`` / ``errors.invalid_rate`` (4xx: refused as invalid), over requests;
- ``performance.<metric>`` on the labelled rows (see :mod:`noria.monitoring.performance`).

A figure that cannot be computed is left out (a window without labels has no performance) and
``details["notes"]`` says why.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.domain.monitors import MonitorResult, Task
from noria.monitoring.log_reader import INPUT_PREFIX
from noria.monitoring.performance import performance_figures
from noria.predictions.log import answered_rows
from noria.predictions.records import FAILED_STATUS

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.datasets.drift import ColumnDrift
    from noria.datasets.profiles import DatasetProfile
    from noria.datasets.schema import DatasetSchema
    from noria.monitoring.windows import Window

MAX_ANOMALIES_KEPT = 50
LATENCY_QUANTILES = {"latency.p50_ms": 50, "latency.p95_ms": 95, "latency.p99_ms": 99}
SERVER_ERROR = 500  # 5xx: the model or the server failed; 4xx: the request was refused


@dataclass(frozen=True)
class Reference:
    """What every window is compared with: the stored profile, the schema restricted to the
    monitored features, and the label column (None: no prediction drift) and task."""

    uri: str
    profile: DatasetProfile
    schema: DatasetSchema
    features: tuple[str, ...]
    label_column: str | None
    task: Task | None


def evaluate_window(
    monitor: str, window: Window, rows: pa.Table, reference: Reference, *, computed_at: int
) -> MonitorResult:
    """The window's result; ``rows`` are its log rows with ``label`` (null when unlabelled),
    failed requests' rows included (they count in the error and latency figures only)."""
    import pyarrow.compute as pc

    requests = _operations(rows) if rows.num_rows else {}
    rows = answered_rows(rows)
    figures: dict[str, float] = {"rows": float(rows.num_rows), **requests}
    details: dict[str, Any] = {"reference": reference.uri, "notes": []}
    labelled = rows.filter(pc.is_valid(rows["label"])) if rows.num_rows else rows
    figures["labels.count"] = float(labelled.num_rows)
    if rows.num_rows == 0:
        details["notes"].append("no predictions were logged in this window")
        return _result(
            monitor,
            window,
            rows=0,
            labels=0,
            figures=figures,
            details=details,
            computed_at=computed_at,
        )
    figures["labels.coverage"] = labelled.num_rows / rows.num_rows
    details["versions"] = _versions(rows)
    inputs = _inputs(rows, reference.features)
    figures |= _feature_drift(inputs, reference, details)
    figures |= _prediction_drift(rows, reference, details)
    figures |= _quality(inputs, reference, details)
    if reference.task is None:
        details["notes"].append("no task set: performance is not computed (give --task)")
    elif labelled.num_rows:
        found, notes = performance_figures(labelled, reference.task)
        figures |= found
        details["notes"] += notes
    return _result(
        monitor,
        window,
        rows=rows.num_rows,
        labels=labelled.num_rows,
        figures=figures,
        details=details,
        computed_at=computed_at,
    )


def _result(
    monitor: str,
    window: Window,
    *,
    rows: int,
    labels: int,
    figures: dict[str, float],
    details: dict[str, Any],
    computed_at: int,
) -> MonitorResult:
    kept = {name: float(value) for name, value in figures.items() if math.isfinite(value)}
    return MonitorResult(
        monitor=monitor,
        window_start=window.start_ms,
        window_end=window.end_ms,
        rows=rows,
        labels=labels,
        figures=kept,
        details=details,
        computed_at=computed_at,
    )


def _inputs(rows: pa.Table, features: tuple[str, ...]) -> pa.Table:
    """The monitored features as plain columns (``input.age`` → ``age``); absent ones left out."""
    import pyarrow as pa

    present = {f: rows[INPUT_PREFIX + f] for f in features if INPUT_PREFIX + f in rows.column_names}
    return pa.table(present) if present else pa.table({"__rows": pa.nulls(rows.num_rows)})


def _versions(rows: pa.Table) -> dict[str, int]:
    pairs = zip(rows["model"].to_pylist(), rows["version"].to_pylist(), strict=True)
    counted = Counter(
        f"{model}/{version}" if version is not None else model for model, version in pairs
    )
    return dict(sorted(counted.items()))


def _drift_row(column: ColumnDrift) -> dict[str, Any]:
    return {
        "column": column.column,
        "test": column.test,
        "status": column.status,
        "statistic": _finite(column.statistic),
        "p_value": _finite(column.p_value),
        "threshold": _finite(column.threshold),
        "drifted": column.drifted,
        "message": column.message,
    }


def _column_figures(prefix: str, column: ColumnDrift) -> dict[str, float]:
    if column.status != "tested":
        return {}
    found = {
        f"{prefix}.drift_score": column.statistic or 0.0,
        f"{prefix}.drifted": float(column.drifted),
    }
    if column.p_value is not None:
        found[f"{prefix}.p_value"] = column.p_value
    return found


def window_tests(reference: Reference, columns: list[str], rows: int) -> dict[str, str]:
    """P-value tests for a small window, whatever the reference's size.

    The data issue's defaults pick distances (Wasserstein, Jensen-Shannon at 0.1) for a large
    reference; on a few hundred rows their sampling noise alone reaches 0.1, so a window of
    that size would drift every other hour. KS and chi-square account for the sample size.
    """
    from noria.datasets.drift_tests import FEW_DISTINCT, SMALL_REFERENCE

    if rows > SMALL_REFERENCE:
        return {}
    tests = {}
    for name in columns:
        if name not in reference.profile.column_names:
            continue
        column = reference.profile.column(name)
        if column.kind == "numeric" and column.distinct_estimate > FEW_DISTINCT:
            tests[name] = "ks"
        elif column.kind in ("numeric", "categorical", "boolean"):
            tests[name] = "chi2"
    return tests


def _feature_drift(
    inputs: pa.Table, reference: Reference, details: dict[str, Any]
) -> dict[str, float]:
    from noria.datasets.drift import detect_drift

    names = list(reference.features)
    tests = window_tests(reference, [n for n in names if n in inputs.column_names], inputs.num_rows)
    report = detect_drift(inputs, reference.profile, columns=names, tests=tests)
    details["drift"] = [_drift_row(column) for column in report.columns]
    figures: dict[str, float] = {}
    for column in report.columns:
        figures |= _column_figures(f"feature.{column.column}", column)
    if report.tested_columns:
        figures["drift.share_drifted"] = report.drift_share
        figures["drift.drifted_count"] = float(report.drifted_columns)
        figures["drift.tested_count"] = float(report.tested_columns)
    else:
        details["notes"].append("no feature could be tested for drift")
    return figures


def _prediction_drift(
    rows: pa.Table, reference: Reference, details: dict[str, Any]
) -> dict[str, float]:
    import pyarrow as pa

    from noria.datasets.drift import detect_drift

    label = reference.label_column
    if label is None:
        details["notes"].append("no label column in the reference: no prediction drift")
        return {}
    if "prediction" not in rows.column_names or _nested(rows.schema.field("prediction").type):
        details["notes"].append(
            "the log's predictions are not one value per row: no prediction drift"
        )
        return {}
    current = pa.table({label: rows["prediction"]})
    tests = window_tests(reference, [label], rows.num_rows)
    column = detect_drift(current, reference.profile, columns=[label], tests=tests).columns[0]
    details["prediction_drift"] = _drift_row(column)
    return _column_figures("prediction", column)


def _quality(inputs: pa.Table, reference: Reference, details: dict[str, Any]) -> dict[str, float]:
    from noria.datasets.validation import validate_table

    present = inputs.drop_columns([n for n in inputs.column_names if n not in reference.features])
    report = validate_table(present, reference.schema, row_count_tolerance=None)
    kinds = Counter(str(anomaly.kind) for anomaly in report.anomalies)
    details["anomalies"] = [
        anomaly.model_dump(mode="json", exclude={"examples"})
        for anomaly in report.anomalies[:MAX_ANOMALIES_KEPT]
    ]
    return {
        "quality.anomalies": float(len(report.anomalies)),
        "quality.errors": float(len(report.errors)),
        "quality.warnings": float(len(report.warnings)),
        **{f"quality.{kind}": float(count) for kind, count in kinds.items()},
    }


def _operations(rows: pa.Table) -> dict[str, float]:
    """Requests, their latency percentiles and error rates, over requests (a request's rows
    share its latency and status), answered and failed alike."""
    import numpy as np
    import pyarrow as pa

    if "status" not in rows.column_names:  # a log older than statuses: every row answered
        rows = rows.append_column("status", pa.nulls(rows.num_rows, pa.int32()))
    per_request = rows.group_by("request_id", use_threads=False).aggregate(
        [("latency_ms", "max"), ("status", "max")]
    )
    requests = per_request.num_rows
    values = per_request["latency_ms_max"].drop_null().to_numpy(zero_copy_only=False)
    figures = {"requests": float(requests)}
    if len(values):
        figures |= {name: float(np.percentile(values, q)) for name, q in LATENCY_QUANTILES.items()}
        figures["latency.mean_ms"] = float(values.mean())
    statuses = per_request["status_max"].fill_null(200).to_numpy(zero_copy_only=False)
    failed = int((statuses >= SERVER_ERROR).sum())
    invalid = int(((statuses >= FAILED_STATUS) & (statuses < SERVER_ERROR)).sum())
    figures |= {
        "errors.count": float(failed),
        "errors.rate": failed / requests,
        "errors.invalid_count": float(invalid),
        "errors.invalid_rate": invalid / requests,
    }
    return figures


def _nested(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_nested(kind))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
