"""Metrics per slice: the rows sharing one value of a column, for each slice column.

Slices use the same metric definitions as the whole table (a 0/1 row weighting). A
slice with fewer than ``min_rows`` rows is flagged ``small``; a column with many
distinct values keeps its ``max_values`` largest slices and a note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from noria.evaluation.metrics import point_metrics
from noria.evaluation.predictions import Rows, plain_value
from noria.evaluation.results import SliceMetrics

if TYPE_CHECKING:
    import pandas as pd

SMALL_SLICE_ROWS = 30
MAX_SLICE_VALUES = 50


def slice_metrics(
    rows: Rows,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    min_rows: int = SMALL_SLICE_ROWS,
    max_values: int = MAX_SLICE_VALUES,
) -> tuple[list[SliceMetrics], list[str]]:
    """Metrics per value of each column (largest slices first), and notes on what was cut."""
    results: list[SliceMetrics] = []
    notes: list[str] = []
    for column in columns:
        column_slices, distinct = _column_slices(rows, frame[column], column, min_rows, max_values)
        results.extend(column_slices)
        if distinct > max_values:
            notes.append(
                f"slice column {column!r} has {distinct} distinct values; only the "
                f"{max_values} largest slices are reported"
            )
    return results, notes


def _column_slices(
    rows: Rows, values: pd.Series, column: str, min_rows: int, max_values: int
) -> tuple[list[SliceMetrics], int]:
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # Missing values form their own slice, coded len(uniques).
    codes = np.where(codes < 0, len(uniques), codes)
    counts = np.bincount(codes, minlength=len(uniques) + 1)
    present = np.flatnonzero(counts)
    # Largest first; equal sizes keep first-appearance order (a stable sort).
    ranked = present[np.argsort(-counts[present], kind="stable")][:max_values]
    slices = [
        SliceMetrics(
            column=column,
            value=None if code == len(uniques) else plain_value(uniques[code]),
            rows=int(counts[code]),
            small=bool(counts[code] < min_rows),
            metrics=point_metrics(rows, (codes == code).astype(np.float64)),
        )
        for code in ranked
    ]
    return slices, len(present)
