"""Evaluation plots as SVG text: ROC, precision-recall and reliability curves, residuals.

Binary problems draw one curve for the positive class; multiclass problems draw one
one-vs-rest curve per class (the first eight classes). Curves are thinned to at most
``MAX_POINTS`` points so each plot stays a few kilobytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from noria.evaluation.metrics import (
    CALIBRATION_BINS,
    calibration_points,
    expected_calibration_error,
)
from noria.evaluation.predictions import ClassificationRows, RegressionRows
from noria.evaluation.ranking import weighted_average_precision, weighted_roc_auc
from noria.evaluation.svg_chart import Axes, Series, chart_svg

if TYPE_CHECKING:
    from noria.evaluation.predictions import BoolArray, FloatArray, IntArray

MAX_POINTS = 300
MAX_CURVES = 8
MAX_SCATTER = 500


def classification_plots(rows: ClassificationRows) -> dict[str, str]:
    """ "roc", "pr" and "calibration" SVGs; none without probabilities."""
    if rows.proba is None:
        return {}
    import numpy as np

    roc, pr = [], []
    for name, score, positive in _one_vs_rest(rows):
        fpr, tpr, precision, recall = _curves(score, positive)
        everyone = np.ones((1, rows.n))
        auc = weighted_roc_auc(score, positive, everyone)[0]
        average_precision = weighted_average_precision(score, positive, everyone)[0]
        roc.append(Series(f"{name} (AUC {auc:.3f})", fpr, tpr))
        pr.append(Series(f"{name} (AP {average_precision:.3f})", recall, precision))
    diagonal = Series("chance", [0.0, 1.0], [0.0, 1.0])
    return {
        "roc": chart_svg(
            "ROC curve", Axes("False positive rate", "True positive rate"), roc, reference=diagonal
        ),
        "pr": chart_svg("Precision-recall curve", Axes("Recall", "Precision"), pr),
        "calibration": _calibration_svg(rows, diagonal),
    }


def regression_plots(rows: RegressionRows, *, random_state: int = 0) -> dict[str, str]:
    """ "residuals": label minus prediction against the prediction (a sample of rows)."""
    import numpy as np

    shown = np.arange(rows.n)
    if rows.n > MAX_SCATTER:
        rng = np.random.default_rng(random_state)
        shown = np.sort(rng.choice(rows.n, MAX_SCATTER, replace=False))
    predicted = rows.y_pred[shown]
    residual = rows.y_true[shown] - predicted
    axes = Axes(
        "Prediction", "Label - prediction", _padded(predicted), _padded(residual, centre=0.0)
    )
    zero = Series("zero", list(axes.x_range), [0.0, 0.0])
    points = Series(
        f"{len(shown)} of {rows.n} rows", predicted.tolist(), residual.tolist(), "points"
    )
    return {"residuals": chart_svg("Residuals", axes, [points], reference=zero)}


def _one_vs_rest(rows: ClassificationRows) -> list[tuple[str, FloatArray, BoolArray]]:
    """(name, score, is-positive) per drawn class; classes lacking either side are skipped."""
    assert rows.proba is not None  # classification_plots checked it
    classes = [1] if rows.binary else list(range(min(len(rows.labels), MAX_CURVES)))
    drawn = []
    for k in classes:
        positive = rows.y_true == k
        if 0 < positive.sum() < rows.n:
            drawn.append((str(rows.labels[k]), rows.proba[:, k], positive))
    return drawn


def _curves(
    score: FloatArray, positive: BoolArray
) -> tuple[list[float], list[float], list[float], list[float]]:
    """ROC (fpr, tpr) and PR (precision, recall) points, one per distinct score, thinned."""
    import numpy as np

    order = np.argsort(-score, kind="stable")
    ordered, hits = score[order], positive[order]
    # The last row of each group of tied scores marks a threshold.
    ends = np.r_[np.flatnonzero(ordered[1:] != ordered[:-1]), len(ordered) - 1]
    true_pos = np.cumsum(hits)[ends].astype(np.float64)
    false_pos = (ends + 1) - true_pos
    tpr = np.r_[0.0, true_pos / true_pos[-1]]
    fpr = np.r_[0.0, false_pos / false_pos[-1]]
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / true_pos[-1]
    keep, keep_pr = _thin(len(tpr)), _thin(len(recall))
    return (
        fpr[keep].tolist(),
        tpr[keep].tolist(),
        np.r_[precision[0], precision[keep_pr]].tolist(),
        np.r_[0.0, recall[keep_pr]].tolist(),
    )


def _calibration_svg(rows: ClassificationRows, diagonal: Series) -> str:
    import numpy as np

    confidence, outcome = calibration_points(rows)
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    filled = counts > 0
    mean_confidence = np.bincount(bins, confidence, CALIBRATION_BINS)[filled] / counts[filled]
    frequency = np.bincount(bins, outcome, CALIBRATION_BINS)[filled] / counts[filled]
    what = f"class {rows.labels[1]}" if rows.binary else "top label"
    axes = Axes(f"Mean predicted probability ({what})", "Observed frequency")
    error = expected_calibration_error(rows, np.ones((1, rows.n)))[0]
    xs, ys = mean_confidence.tolist(), frequency.tolist()
    curve = Series(f"model (ECE {error:.3f})", xs, ys)
    bins_shown = Series(f"{int(filled.sum())} non-empty bins", xs, ys, "points")
    return chart_svg("Reliability (10 bins)", axes, [curve, bins_shown], reference=diagonal)


def _thin(length: int) -> IntArray:
    """At most MAX_POINTS indices, spread evenly and keeping both ends."""
    import numpy as np

    if length <= MAX_POINTS:
        return np.arange(length, dtype=np.int64)
    return np.unique(np.linspace(0, length - 1, MAX_POINTS).round().astype(np.int64))


def _padded(values: FloatArray, *, centre: float | None = None) -> tuple[float, float]:
    """An axis range around ``values`` with 5% room, symmetric about ``centre`` if given."""
    import numpy as np

    low, high = float(np.min(values)), float(np.max(values))
    if centre is not None:
        reach = max(abs(low - centre), abs(high - centre))
        low, high = centre - reach, centre + reach
    room = (high - low) * 0.05 or 1.0
    return low - room, high + room
