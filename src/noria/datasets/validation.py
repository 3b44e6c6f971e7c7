"""Validate a table against a schema: a report of precise anomalies, plus user-defined checks.

>>> report = validate_table(new_frame, schema, checks=[no_future_dates])  # doctest: +SKIP
>>> report.ok, [anomaly.kind for anomaly in report.anomalies]  # doctest: +SKIP
(False, ['missing_column', 'out_of_range'])

A check is a plain function of a pandas DataFrame. It passes by returning ``True`` or
``None``; it fails by returning ``False``, a message, or a boolean Series with one value per
row (``False`` marks a failing row); a check that raises is reported, never fatal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from noria.datasets.arrow_types import to_arrow_table
from noria.datasets.schema import DatasetSchema
from noria.datasets.validation_checks import (
    ERROR_FRACTION,
    MAX_EXAMPLES,
    Anomaly,
    AnomalyKind,
    check_column,
    jsonable,
    percent,
    shown,
)
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "ERROR_FRACTION",
    "Anomaly",
    "AnomalyKind",
    "Check",
    "ValidationReport",
    "validate_table",
]

Check = Callable[["pd.DataFrame"], Any]


class ValidationReport(BaseModel):
    """The anomalies of one table, errors first; ``ok`` when none is an error."""

    model_config = ConfigDict(frozen=True)

    anomalies: list[Anomaly]
    row_count: int

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Anomaly]:
        return [anomaly for anomaly in self.anomalies if anomaly.severity == "error"]

    @property
    def warnings(self) -> list[Anomaly]:
        return [anomaly for anomaly in self.anomalies if anomaly.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"ok", "row_count", "anomalies": [{"column", "kind", ...}]}``."""
        return {
            "ok": self.ok,
            "row_count": self.row_count,
            "anomalies": [anomaly.model_dump(mode="json") for anomaly in self.anomalies],
        }

    def summary(self) -> str:
        """One line per anomaly under a count, for terminals and logs."""
        head = (
            f"{len(self.errors)} errors, {len(self.warnings)} warnings in {self.row_count:,} rows"
        )
        return "\n".join([head, *(f"{a.severity}: [{a.kind}] {a.message}" for a in self.anomalies)])


def validate_table(
    table: pa.Table | pd.DataFrame,
    schema: DatasetSchema,
    *,
    checks: Sequence[Check] = (),
    row_count_tolerance: float | None = 0.5,
    error_fraction: float = ERROR_FRACTION,
) -> ValidationReport:
    """Check ``table`` against ``schema`` and run the user's ``checks`` on it.

    ``row_count_tolerance``: warn when the row count is outside the reference's ±that share
    (``None`` turns the check off). ``error_fraction``: out-of-range values and unseen categories
    are errors above this share of a column's non-null values, warnings at or below it.
    """
    if row_count_tolerance is not None and not row_count_tolerance >= 0:
        raise InvalidArgument(f"row_count_tolerance must be 0 or more, got {row_count_tolerance}")
    if not 0 <= error_fraction <= 1:
        raise InvalidArgument(f"error_fraction must be between 0 and 1, got {error_fraction}")
    arrow = to_arrow_table(table)
    anomalies = _column_presence(arrow.column_names, schema)
    row_count = _row_count(arrow.num_rows, schema.row_count, row_count_tolerance)
    anomalies += [row_count] if row_count is not None else []
    for column in schema.columns:
        if column.name in arrow.column_names:
            values = arrow.column(column.name)
            anomalies += check_column(values, column, error_fraction=error_fraction)
    if checks:
        import pandas as pd

        frame = table if isinstance(table, pd.DataFrame) else arrow.to_pandas()
        anomalies += [found for check in checks if (found := run_check(check, frame)) is not None]
    errors_first = sorted(anomalies, key=lambda anomaly: anomaly.severity != "error")
    return ValidationReport(anomalies=errors_first, row_count=arrow.num_rows)


def _column_presence(names: list[str], schema: DatasetSchema) -> list[Anomaly]:
    present, expected = set(names), set(schema.names)
    missing = [
        Anomaly(
            column=name,
            kind=AnomalyKind.MISSING_COLUMN,
            severity="error",
            message=f"column {name!r} is in the schema but not in the table",
        )
        for name in schema.names
        if name not in present
    ]
    unexpected = [
        Anomaly(
            column=name,
            kind=AnomalyKind.UNEXPECTED_COLUMN,
            severity="warning",
            message=f"column {name!r} is in the table but not in the schema",
        )
        for name in names
        if name not in expected
    ]
    return missing + unexpected


def _row_count(rows: int, reference: int | None, tolerance: float | None) -> Anomaly | None:
    if reference is None or tolerance is None:
        return None
    low, high = reference * (1 - tolerance), reference * (1 + tolerance)
    if low <= rows <= high:
        return None
    allowed = f"{max(math.ceil(low), 0):,} to {math.floor(high):,}"
    return Anomaly(
        column=None,
        kind=AnomalyKind.ROW_COUNT,
        severity="warning",
        message=f"the table has {rows:,} rows, far from the reference's {reference:,} "
        f"(expected {allowed}: ±{percent(tolerance)})",
        count=rows,
        fraction=rows / reference if reference else None,
    )


def run_check(check: Check, frame: pd.DataFrame) -> Anomaly | None:
    """Run one user check; its failure, or the exception it raised, becomes an anomaly."""
    name = getattr(check, "__name__", None) or repr(check)
    try:
        result = check(frame)
    except Exception as exc:  # noqa: BLE001 - a broken check is reported, not fatal
        return _failed(name, f"check {name!r} raised {type(exc).__name__}: {exc}")
    return _outcome(name, result)


def _outcome(name: str, result: Any) -> Anomaly | None:
    import numpy as np
    import pandas as pd

    if result is None or isinstance(result, bool | np.bool_):
        return None if result is None or result else _failed(name, f"check {name!r} failed")
    if isinstance(result, str):
        return _failed(name, f"check {name!r} failed: {result}" if result else "")
    if isinstance(result, np.ndarray) and result.dtype == np.bool_:
        result = pd.Series(result)
    if isinstance(result, pd.Series) and pd.api.types.is_bool_dtype(result.dtype):
        failing = result.index[~result.fillna(False).astype(bool)]
        if len(failing) == 0:
            return None
        rows = [jsonable(label) for label in failing[:MAX_EXAMPLES]]
        message = (
            f"check {name!r} failed on {len(failing):,} of {len(result):,} rows "
            f"({percent(len(failing) / len(result))}), e.g. rows {shown(rows)}"
        )
        return _failed(name, message, examples=rows, count=len(failing))
    return _failed(
        name,
        f"check {name!r} returned a {type(result).__name__}; a check returns True or None "
        "(pass), False or a message (fail), or a boolean Series (False marks failing rows)",
    )


def _failed(
    name: str, message: str, *, examples: list[Any] | None = None, count: int | None = None
) -> Anomaly:
    return Anomaly(
        column=None,
        kind=AnomalyKind.CHECK_FAILED,
        severity="error",
        message=message or f"check {name!r} failed",
        examples=examples or [],
        count=count,
    )
