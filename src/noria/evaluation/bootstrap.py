"""Paired bootstrap of a metric difference between two models on the same rows.

Each resample draws n rows with replacement and both models are scored on exactly
those rows, so the spread of ``candidate - champion`` reflects only how the models
differ, not how lucky the evaluation sample was. A resample is a row of counts (how
often each row was drawn), and the metric engine scores a whole block of resamples in
a few matrix operations — 1,000 resamples of 2,000 rows take well under a second.
The interval is the percentile interval of the resampled differences.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from noria.errors import InvalidArgument
from noria.evaluation.metrics import metric_values

if TYPE_CHECKING:
    from noria.evaluation.predictions import FloatArray, Rows

# Cells per block of resamples (counts held as float64: 8 bytes each, ~32 MB).
_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class DifferenceInterval:
    """``candidate - champion`` on the full data and its bootstrap interval."""

    difference: float
    low: float
    high: float
    resamples: int  # resamples where both values were defined


def resample_counts(n_rows: int, n_resamples: int, *, random_state: int) -> Iterator[FloatArray]:
    """Blocks of resamples as count matrices ``(block, n_rows)``; the same seed, the same draws."""
    import numpy as np

    rng = np.random.default_rng(random_state)
    block = max(1, _BLOCK_CELLS // max(n_rows, 1))
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        drawn = rng.integers(0, n_rows, size=(size, n_rows))
        # Offset each resample's indices into its own row, then count them all at once.
        flat = (drawn + np.arange(size)[:, None] * n_rows).ravel()
        yield np.bincount(flat, minlength=size * n_rows).reshape(size, n_rows).astype(np.float64)


def paired_difference(
    candidate: Rows,
    champion: Rows,
    metric: str,
    *,
    n_resamples: int,
    confidence: float,
    random_state: int,
) -> DifferenceInterval:
    """The metric difference and its ``confidence`` percentile interval over paired resamples."""
    import numpy as np

    check_bootstrap_settings(n_resamples, confidence)
    if candidate.n != champion.n:
        raise InvalidArgument(
            f"the candidate was evaluated on {candidate.n} rows and the champion on "
            f"{champion.n}; evaluate both on the same data"
        )
    full = np.ones((1, candidate.n))
    observed = metric_values(candidate, metric, full)[0] - metric_values(champion, metric, full)[0]
    blocks = [
        metric_values(candidate, metric, counts) - metric_values(champion, metric, counts)
        for counts in resample_counts(candidate.n, n_resamples, random_state=random_state)
    ]
    differences = np.concatenate(blocks)
    differences = differences[np.isfinite(differences)]
    if differences.size == 0:
        raise InvalidArgument(
            f"{metric!r} is undefined on every resample (e.g. one class only); "
            "evaluate on more varied data"
        )
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(differences, [tail, 1.0 - tail])
    return DifferenceInterval(float(observed), float(low), float(high), int(differences.size))


def check_bootstrap_settings(n_resamples: int, confidence: float) -> None:
    """InvalidArgument unless there is at least one resample and 0 < confidence < 1."""
    if n_resamples < 1:
        raise InvalidArgument(f"n_bootstrap must be at least 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise InvalidArgument(f"confidence must lie strictly between 0 and 1, got {confidence}")
