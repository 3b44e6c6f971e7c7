"""ROC AUC and average precision for many row weightings at once.

A bootstrap resample is a vector of row counts, so each metric here takes a weight
matrix ``(resamples, rows)`` and answers one value per resample; the point estimate is
the single all-ones row. Rows are sorted by score once and tied scores form groups,
which keeps every resample a few vector operations: O(resamples x rows).

ROC AUC is the rank (Mann-Whitney) form: the weighted share of (positive, negative)
pairs ordered correctly, ties counting one half; it equals the area under the ROC
curve. Average precision is scikit-learn's: Σ (Rₖ - Rₖ₋₁) · Pₖ over distinct scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from noria.evaluation.predictions import BoolArray, FloatArray


def weighted_roc_auc(score: FloatArray, positive: BoolArray, weights: FloatArray) -> FloatArray:
    """One ROC AUC per weight row; NaN where a row weighs no positive or no negative."""
    import numpy as np

    pos, neg = _grouped_weights(score, positive, weights)
    # Each positive beats the negatives below its group and ties half of those within it.
    beaten = np.einsum("ij,ij->i", pos, np.cumsum(neg, axis=1) - 0.5 * neg)
    return ratio(beaten, pos.sum(axis=1) * neg.sum(axis=1))


def weighted_average_precision(
    score: FloatArray, positive: BoolArray, weights: FloatArray
) -> FloatArray:
    """One average precision per weight row; NaN where a row weighs no positive."""
    import numpy as np

    pos, neg = _grouped_weights(score, positive, weights)
    seen = pos + neg
    # Thresholds run from the highest score down. Counting from the top as "total minus
    # what lies below" avoids reversed (slow, strided) arrays and is exact for counts.
    hits_above = pos.sum(axis=1, keepdims=True) - np.cumsum(pos, axis=1) + pos
    seen_above = seen.sum(axis=1, keepdims=True) - np.cumsum(seen, axis=1) + seen
    precision = np.divide(
        hits_above, seen_above, out=np.zeros_like(seen_above), where=seen_above > 0
    )
    # Each group adds its share of the positives (recall) at its precision.
    return ratio(np.einsum("ij,ij->i", pos, precision), pos.sum(axis=1))


def _grouped_weights(
    score: FloatArray, positive: BoolArray, weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Positive and negative weight per group of tied scores, groups in ascending order."""
    import numpy as np

    order = np.argsort(score, kind="stable")
    ordered = score[order]
    sorted_weights = weights[:, order]
    pos = sorted_weights * positive[order]
    neg = sorted_weights - pos
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    if len(starts) < len(ordered):  # ties: sum each group of equal scores
        pos = np.add.reduceat(pos, starts, axis=1)
        neg = np.add.reduceat(neg, starts, axis=1)
    return pos, neg


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """numerator / denominator, NaN where the denominator is not positive."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)
