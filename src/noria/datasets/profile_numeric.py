"""A numeric column's distribution, quantiles and histogram.

Up to ``exact_quantile_limit`` rows, each column's usable values are fetched and
sorted once (8 bytes a value) and everything is exact. Above it, nothing is loaded:
DuckDB counts each value when there are few distinct ones, and otherwise sketches
the quantiles with a t-digest (``approx_quantile``) and bins the histogram in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from noria.datasets.profile_cdf import run_starts
from noria.datasets.profile_sql import RELATION, Basics, ColumnSpec, Source
from noria.datasets.profiles import (
    EXACT_DISTINCT_LIMIT,
    GRID_POINTS,
    QUANTILE_LABELS,
    Histogram,
    NumericDistribution,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class NumericDetails:
    distribution: NumericDistribution
    quantiles: dict[str, float]
    histogram: Histogram
    distinct: int | None  # exact distinct count when known


def numeric_details(
    source: Source, spec: ColumnSpec, basics: Basics, *, bins: int
) -> tuple[Basics, NumericDetails | None]:
    """The column's basics (counted here when they were left to the loaded values) and
    its distribution, quantiles and histogram (None when it has no usable value)."""
    if basics.loaded:
        ordered, basics = _load(source, spec)
        return basics, details_of_sorted(
            ordered, run_starts(ordered), bins
        ) if basics.count else None
    if basics.count == 0:
        return basics, None
    if basics.distinct_estimate <= EXACT_DISTINCT_LIMIT:
        details = _from_value_counts(source, spec, bins)
        if details is not None:
            return basics, details
    return basics, _from_sketch(source, spec, basics, bins)


def _load(source: Source, spec: ColumnSpec) -> tuple[Floats, Basics]:
    """The sorted usable values, and the column's counts and moments from them.

    Moments come from numpy rather than DuckDB: DuckDB's parallel sums vary in the last
    bits from run to run, and a profile of the same data should be the same profile.
    """
    import numpy as np

    column = source.arrow(f"SELECT CAST({spec.quoted} AS DOUBLE) FROM {RELATION}").column(0)
    raw = np.asarray(column.to_numpy(), dtype=np.float64)  # nulls arrive as NaN
    infinite = int(np.isinf(raw).sum())
    ordered = raw[np.isfinite(raw)]  # a copy, sorted in place
    total = len(raw)
    del column, raw  # two columns are loaded at once: hold one copy each, not three
    ordered.sort()
    count = len(ordered)
    basics = Basics(
        count=count,
        null_count=total - count - infinite,
        infinite_count=infinite,
        distinct_estimate=0,
        mean=float(np.mean(ordered)) if count else None,
        std=float(np.std(ordered)) if count else None,
        min=float(ordered[0]) if count else None,
        max=float(ordered[-1]) if count else None,
    )
    return ordered, basics


def _probabilities() -> Floats:
    import numpy as np

    return np.arange(GRID_POINTS, dtype=np.float64) / (GRID_POINTS - 1)


def sorted_quantiles(ordered: Floats, probabilities: Floats) -> Floats:
    """Linear-interpolation quantiles (numpy's default method) of sorted values."""
    import numpy as np

    position = probabilities * (len(ordered) - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(ordered) - 1)
    fraction = position - low
    result: Floats = ordered[low] + fraction * (ordered[high] - ordered[low])
    return result


def _label_quantiles(quantile_of: Floats) -> dict[str, float]:
    return {label: float(value) for label, value in zip(QUANTILE_LABELS, quantile_of, strict=True)}


def _label_probabilities() -> Floats:
    import numpy as np

    return np.array(list(QUANTILE_LABELS.values()), dtype=np.float64)


def _histogram_edges(low: float, high: float, bins: int) -> Floats:
    import numpy as np

    if low == high:
        return np.array([low, high], dtype=np.float64)
    return np.linspace(low, high, bins + 1)


def _histogram_of_sorted(ordered: Floats, bins: int) -> Histogram:
    import numpy as np

    edges = _histogram_edges(float(ordered[0]), float(ordered[-1]), bins)
    inner = np.searchsorted(ordered, edges[1:-1], side="left")
    bounds = np.concatenate([[0], inner, [len(ordered)]])
    return Histogram(edges=edges.tolist(), counts=np.diff(bounds).tolist())


def details_of_sorted(ordered: Floats, first: Ints | None, bins: int) -> NumericDetails:
    """Exact details of sorted values; ``first`` from :func:`run_starts`."""
    import numpy as np

    distinct = len(ordered) if first is None else len(first)
    if distinct <= EXACT_DISTINCT_LIMIT:
        starts = np.arange(len(ordered)) if first is None else first
        counts = np.diff(np.append(starts, len(ordered)))
        distribution = NumericDistribution(
            exact=True, values=ordered[starts].tolist(), counts=counts.tolist()
        )
    else:
        grid = sorted_quantiles(ordered, _probabilities())
        distribution = NumericDistribution(exact=False, values=grid.tolist())
    return NumericDetails(
        distribution=distribution,
        quantiles=_label_quantiles(sorted_quantiles(ordered, _label_probabilities())),
        histogram=_histogram_of_sorted(ordered, bins),
        distinct=distinct,
    )


def _from_value_counts(source: Source, spec: ColumnSpec, bins: int) -> NumericDetails | None:
    """Exact counts per distinct value; None when the estimate was far too low."""
    import numpy as np

    sql = f"SELECT histogram(v) FROM (SELECT {spec.value} AS v FROM {RELATION}) WHERE v IS NOT NULL"
    mapping: dict[float, int] = source.query(sql)[0][0] or {}
    if len(mapping) > 2 * EXACT_DISTINCT_LIMIT:
        return None
    values = np.array(sorted(mapping), dtype=np.float64)
    counts = np.array([mapping[value] for value in values.tolist()], dtype=np.int64)
    return NumericDetails(
        distribution=NumericDistribution(
            exact=True, values=values.tolist(), counts=counts.tolist()
        ),
        quantiles=_label_quantiles(counted_quantiles(values, counts, _label_probabilities())),
        histogram=_histogram_of_counts(values, counts, bins),
        distinct=len(values),
    )


def counted_quantiles(values: Floats, counts: Ints, probabilities: Floats) -> Floats:
    """Linear-interpolation quantiles of the sorted sample ``repeat(values, counts)``."""
    import numpy as np

    ends = np.cumsum(counts)
    position = probabilities * (ends[-1] - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, ends[-1] - 1)
    at_low = values[np.searchsorted(ends, low, side="right")]
    at_high = values[np.searchsorted(ends, high, side="right")]
    result: Floats = at_low + (position - low) * (at_high - at_low)
    return result


def _histogram_of_counts(values: Floats, counts: Ints, bins: int) -> Histogram:
    import numpy as np

    edges = _histogram_edges(float(values[0]), float(values[-1]), bins)
    ends = np.concatenate([[0], np.cumsum(counts)])
    inner = ends[np.searchsorted(values, edges[1:-1], side="left")]
    bounds = np.concatenate([[0], inner, [ends[-1]]])
    return Histogram(edges=edges.tolist(), counts=np.diff(bounds).tolist())


def _from_sketch(source: Source, spec: ColumnSpec, basics: Basics, bins: int) -> NumericDetails:
    import numpy as np

    low, high = float(basics.min or 0.0), float(basics.max or 0.0)
    probabilities = _probabilities().tolist()
    values = f"(SELECT {spec.value} AS v FROM {RELATION})"
    sql = f"SELECT approx_quantile(v, {probabilities}) FROM {values}"
    grid = np.maximum.accumulate(np.array(source.query(sql)[0][0], dtype=np.float64))
    # The sketch's ends are estimates; the scan's exact minimum and maximum are known.
    grid[0], grid[-1] = low, high
    grid = np.clip(grid, low, high)
    edges = _histogram_edges(low, high, bins)
    width = (high - low) / bins if high > low else 1.0
    bin_of = f"least(CAST(floor((v - {low!r}) / {width!r}) AS INTEGER), {len(edges) - 2})"
    sql = f"SELECT histogram({bin_of}) FROM {values} WHERE v IS NOT NULL"
    by_bin: dict[int, int] = source.query(sql)[0][0] or {}
    counts = [by_bin.get(index, 0) for index in range(len(edges) - 1)]
    label_positions = np.rint(_label_probabilities() * (GRID_POINTS - 1)).astype(np.int64)
    return NumericDetails(
        distribution=NumericDistribution(
            exact=False, values=grid.tolist(), approximate_quantiles=True
        ),
        quantiles=_label_quantiles(grid[label_positions]),
        histogram=Histogram(edges=edges.tolist(), counts=counts),
        distinct=None,
    )
