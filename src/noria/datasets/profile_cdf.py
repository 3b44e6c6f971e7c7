"""A numeric sample's CDF, from raw values, exact value counts, or a stored quantile grid.

The CDF is kept as knots, with a jump at each knot and a straight line between knots.
An exact sample (every distinct value with its count) is a pure step function, so the
statistics computed on it equal SciPy's on the raw values. A quantile grid is the same
model with lines between its points; its CDF is within ``1 / (points - 1) + 1 / n`` of
the sample's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Ints = npt.NDArray[np.int64]


MERGE_BLOCK = 1 << 16


def run_starts(ordered: Floats) -> Ints | None:
    """Where each distinct value starts in sorted values; None when every value is distinct
    (continuous data), which saves an index array as long as the values."""
    import numpy as np

    if len(ordered) < 2:
        return None
    new = np.empty(len(ordered), dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    if new.all():
        return None
    return np.flatnonzero(new)


@dataclass(frozen=True)
class CdfModel:
    """``F(knots[k]-) = below[k]``, ``F(knots[k]) = at[k]``, linear between knots.

    Exact models keep per-knot ``counts`` (``below``/``at`` follow from them, computed
    only when asked for); grid models keep ``below``/``at`` directly.
    """

    knots: Floats
    count: int
    counts: Floats | None = None
    grid_below: Floats | None = None
    grid_at: Floats | None = None

    @property
    def exact(self) -> bool:
        return self.counts is not None

    @cached_property
    def at(self) -> Floats:
        import numpy as np

        if self.counts is None:
            return self.grid_at if self.grid_at is not None else np.ones(len(self.knots))
        result: Floats = np.cumsum(self.counts) / self.count
        return result

    @cached_property
    def below(self) -> Floats:
        import numpy as np

        if self.counts is None:
            return self.grid_below if self.grid_below is not None else np.zeros(len(self.knots))
        return np.concatenate([[0.0], np.cumsum(self.counts)[:-1]]) / self.count

    @classmethod
    def from_counts(cls, values: Floats, counts: Floats) -> CdfModel:
        """An exact sample: sorted distinct ``values`` seen ``counts`` times."""
        import numpy as np

        counts = np.asarray(counts, dtype=np.float64)
        return cls(values, int(counts.sum()), counts)

    @classmethod
    def from_samples(cls, values: Floats, *, sort_in_place: bool = False) -> CdfModel:
        """An exact sample from raw values (``sort_in_place`` saves a copy of them)."""
        import numpy as np

        if not len(values):
            raise ValueError("an empty sample has no distribution")
        ordered = values if sort_in_place else np.array(values, dtype=np.float64)
        ordered.sort()
        return cls.from_sorted(ordered, run_starts(ordered))

    @classmethod
    def from_sorted(cls, ordered: Floats, first: Ints | None) -> CdfModel:
        """An exact sample from sorted values, kept as they are (no copy when every value
        is distinct); ``first`` from :func:`run_starts`."""
        import numpy as np

        if first is None:  # continuous data: every value distinct, seen once
            # A broadcast 1.0 (read-only, no memory) rather than an array of ones.
            return cls(ordered, len(ordered), np.broadcast_to(1.0, len(ordered)))
        counts = np.diff(np.append(first, len(ordered))).astype(np.float64)
        return cls(ordered[first], len(ordered), counts)

    @classmethod
    def from_grid(cls, grid: Floats, count: int) -> CdfModel:
        """Quantiles at probabilities ``i / (len(grid) - 1)``; repeated points are atoms."""
        import numpy as np

        probabilities = np.arange(len(grid), dtype=np.float64) / (len(grid) - 1)
        knots, first = np.unique(grid, return_index=True)
        last = np.concatenate([first[1:], [len(grid)]]) - 1
        below, at = probabilities[first], probabilities[last]
        below[0] = 0.0
        return cls(knots, count, grid_below=below, grid_at=at)

    def cdf(self, x: Floats) -> Floats:
        """``F(x)``, right-continuous."""
        import numpy as np

        k = np.searchsorted(self.knots, x, side="right") - 1
        return self._between(np.clip(k, 0, None), x, np.where(k < 0, 0.0, np.nan))

    def cdf_left(self, x: Floats) -> Floats:
        """``F(x-)``, the limit from the left."""
        import numpy as np

        k = np.searchsorted(self.knots, x, side="left")
        on_knot = (k < len(self.knots)) & (self.knots[np.minimum(k, len(self.knots) - 1)] == x)
        result = self._between(np.clip(k - 1, 0, None), x, np.where(k == 0, 0.0, np.nan))
        return np.where(on_knot, self.below[np.minimum(k, len(self.knots) - 1)], result)

    def _between(self, k: npt.NDArray[np.int64], x: Floats, preset: Floats) -> Floats:
        """F on ``[knots[k], knots[k+1])``: ``at[k]`` at the knot, then linear; 1 past the end."""
        import numpy as np

        last = len(self.knots) - 1
        nxt = np.minimum(k + 1, last)
        width = self.knots[nxt] - self.knots[k]
        safe = np.where(width > 0, width, 1.0)
        rise = self.below[nxt] - self.at[k]
        inner = self.at[k] + np.where(width > 0, (x - self.knots[k]) / safe, 0.0) * rise
        value = np.where(k >= last, self.at[last], inner)
        return np.where(np.isnan(preset), value, preset)

    def quantile(self, p: Floats) -> Floats:
        """The smallest x with ``F(x) >= p``."""
        import numpy as np

        k = np.minimum(np.searchsorted(self.at, p, side="left"), len(self.knots) - 1)
        previous = np.maximum(k - 1, 0)
        gap = self.below[k] - self.at[previous]
        fraction = np.where(gap > 0, (p - self.at[previous]) / np.where(gap > 0, gap, 1.0), 1.0)
        inside = self.knots[previous] + fraction * (self.knots[k] - self.knots[previous])
        return np.where(self.below[k] <= p, self.knots[k], inside)

    def expanded(self) -> Floats:
        """The raw sample back (exact models only): each value repeated by its count."""
        import numpy as np

        if self.counts is None:
            raise ValueError("only an exact model can be expanded")
        return np.repeat(self.knots, self.counts.astype(np.int64))


def cdf_gaps(a: CdfModel, b: CdfModel) -> tuple[Floats, Floats]:
    """For two exact models: the union of their values and ``F_a - F_b`` there.

    The knots are merged by rank (a knot of ``a`` goes after the knots of ``b`` below it;
    equal values meet in one point), and each side's counts are scaled by the other
    side's total, so that the running sum is the integer ``(F_a - F_b) * n_a * n_b``,
    exact in float64 up to 2**53, and divided once. Memory: two arrays of the merged
    length (at a million values a side, 16 MB each) and a byte a value.
    """
    import numpy as np

    if a.counts is None or b.counts is None:
        raise ValueError("cdf_gaps needs two exact models")
    size = len(a.knots) + len(b.knots)
    from_a = np.zeros(size, dtype=bool)
    for start in range(0, len(a.knots), MERGE_BLOCK):  # by blocks: no index array of n
        knots = a.knots[start : start + MERGE_BLOCK]
        place = np.searchsorted(b.knots, knots, side="left")
        place += np.arange(start, start + len(knots))
        from_a[place] = True
    values, steps = np.empty(size), np.empty(size)
    values[from_a] = a.knots
    steps[from_a] = float(b.count) if _unit(a) else a.counts * b.count
    np.logical_not(from_a, out=from_a)
    values[from_a] = b.knots
    steps[from_a] = -float(a.count) if _unit(b) else b.counts * -a.count
    del from_a
    np.cumsum(steps, out=steps)
    steps /= float(a.count) * float(b.count)
    last = np.empty(size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=last[:-1])
    last[-1] = True
    if last.all():
        return values, steps
    return values[last], steps[last]


def _unit(model: CdfModel) -> bool:
    """Every value seen once (counts are positive whole numbers summing to ``count``)."""
    return model.count == len(model.knots)
