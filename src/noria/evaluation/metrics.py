"""The metric suites, computed for many row weightings at once.

Every metric is a function ``(rows, weights) -> values``: ``weights`` is a matrix
``(k, n)`` of per-row weights and the answer holds one value per weight row. The
point estimate uses one row of ones, a slice a 0/1 row, a bootstrap resample a row of
counts — so reported figures, slice figures and confidence intervals share one
definition. An undefined value (no positive rows for ROC AUC, no non-zero label for
MAPE) is NaN here and left out of reported metrics.

Classification (binary: the positive class is the second label; multiclass: the
unweighted mean over classes, "macro"): accuracy, precision, recall, f1 (as
scikit-learn with ``zero_division=0``), roc_auc (multiclass: one-vs-rest, macro),
pr_auc (average precision; multiclass: one-vs-rest, macro), log_loss (probabilities
clipped to [ε, 1 - ε], as scikit-learn) and calibration_error (expected calibration
error over 10 equal-width bins: see :func:`expected_calibration_error`).
Regression: rmse, mae, r2, and mape (a fraction, over rows whose label is not zero).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from noria.errors import InvalidArgument
from noria.evaluation.predictions import ClassificationRows, RegressionRows, Rows
from noria.evaluation.ranking import ratio, weighted_average_precision, weighted_roc_auc

if TYPE_CHECKING:
    from noria.evaluation.predictions import BoolArray, FloatArray

Task = Literal["classification", "regression"]
CALIBRATION_BINS = 10

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "calibration_error",
)
PROBABILITY_METRICS = frozenset({"roc_auc", "pr_auc", "log_loss", "calibration_error"})
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
ALL_METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS


def metric_task(name: str) -> Task:
    """The task a metric belongs to; InvalidArgument for an unknown name."""
    if name in CLASSIFICATION_METRICS:
        return "classification"
    if name in REGRESSION_METRICS:
        return "regression"
    raise InvalidArgument(f"unknown metric {name!r}; expected one of {', '.join(ALL_METRICS)}")


def metric_values(rows: Rows, name: str, weights: FloatArray) -> FloatArray:
    """One value of metric ``name`` per weight row (NaN where undefined).

    InvalidArgument when the metric does not fit the task or needs absent probabilities.
    """
    if isinstance(rows, RegressionRows):
        if metric_task(name) != "regression":
            raise InvalidArgument(f"{name!r} is a classification metric; this is a regression")
        return _REGRESSION[name](rows, weights)
    if metric_task(name) != "classification":
        raise InvalidArgument(f"{name!r} is a regression metric; this is a classification")
    if name in PROBABILITY_METRICS and rows.proba is None:
        raise InvalidArgument(
            f"{name!r} needs probabilities and the predictor has no predict_proba"
        )
    return _CLASSIFICATION[name](rows, weights)


def available_metrics(rows: Rows) -> tuple[str, ...]:
    """The metrics these rows can answer: probability metrics only with probabilities."""
    if isinstance(rows, RegressionRows):
        return REGRESSION_METRICS
    if rows.proba is None:
        return tuple(name for name in CLASSIFICATION_METRICS if name not in PROBABILITY_METRICS)
    return CLASSIFICATION_METRICS


def point_metrics(rows: Rows, mask: FloatArray | None = None) -> dict[str, float]:
    """Every defined metric over all rows, or over the rows where ``mask`` is 1."""
    import numpy as np

    weights = (np.ones(rows.n) if mask is None else mask).reshape(1, -1).astype(np.float64)
    values = {
        name: float(metric_values(rows, name, weights)[0]) for name in available_metrics(rows)
    }
    return {name: value for name, value in values.items() if np.isfinite(value)}


def expected_calibration_error(rows: ClassificationRows, weights: FloatArray) -> FloatArray:
    """Σ over bins of (bin weight / total) · |observed frequency - mean confidence|.

    Bins are 10 equal-width intervals [0, 0.1), [0.1, 0.2), …, [0.9, 1.0]. Binary: the
    confidence is the positive-class probability and the outcome "is positive" (the
    reliability diagram). Multiclass: the top-label confidence (highest probability) and
    the outcome "the top label is right" (Guo et al., 2017).
    """
    import numpy as np

    confidence, outcome = calibration_points(rows)
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)
    member = np.eye(CALIBRATION_BINS)[bins]  # (n, bins)
    gap = weights @ (member * (outcome - confidence)[:, None])  # (k, bins)
    return ratio(np.abs(gap).sum(axis=1), weights.sum(axis=1))


def calibration_points(rows: ClassificationRows) -> tuple[FloatArray, FloatArray]:
    """Per-row (confidence, outcome) as :func:`expected_calibration_error` defines them."""
    import numpy as np

    if rows.proba is None:
        raise InvalidArgument("calibration needs probabilities; the predictor has none")
    if rows.binary:
        return rows.proba[:, 1], (rows.y_true == 1).astype(np.float64)
    top = np.argmax(rows.proba, axis=1)
    return rows.proba[np.arange(rows.n), top], (top == rows.y_true).astype(np.float64)


def _accuracy(rows: ClassificationRows, weights: FloatArray) -> FloatArray:
    return ratio(weights @ (rows.y_true == rows.y_pred), weights.sum(axis=1))


def _class_counts(
    rows: ClassificationRows, weights: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted (true positives, predicted, actual) per class; binary: positive class only."""
    import numpy as np

    classes = np.arange(len(rows.labels))
    if rows.binary:
        classes = classes[1:]
    truth = rows.y_true[:, None] == classes
    predicted = rows.y_pred[:, None] == classes
    return weights @ (truth & predicted), weights @ predicted, weights @ truth


def _macro(per_class: FloatArray, keep: BoolArray) -> FloatArray:
    """Mean of each row over the classes ``keep`` marks; NaN where it marks none."""
    import numpy as np

    return ratio(np.where(keep, per_class, 0.0).sum(axis=1), keep.sum(axis=1).astype(np.float64))


def _precision(rows: ClassificationRows, weights: FloatArray) -> FloatArray:
    import numpy as np

    hits, predicted, actual = _class_counts(rows, weights)
    # scikit-learn averages over the labels found in the truth or the predictions.
    return _macro(np.nan_to_num(ratio(hits, predicted)), (predicted + actual) > 0)


def _recall(rows: ClassificationRows, weights: FloatArray) -> FloatArray:
    import numpy as np

    hits, predicted, actual = _class_counts(rows, weights)
    return _macro(np.nan_to_num(ratio(hits, actual)), (predicted + actual) > 0)


def _f1(rows: ClassificationRows, weights: FloatArray) -> FloatArray:
    import numpy as np

    hits, predicted, actual = _class_counts(rows, weights)
    return _macro(np.nan_to_num(ratio(2 * hits, predicted + actual)), (predicted + actual) > 0)


def _one_vs_rest(
    metric: Callable[[FloatArray, BoolArray, FloatArray], FloatArray],
) -> Callable[[ClassificationRows, FloatArray], FloatArray]:
    """Binary: the positive class's score; multiclass: the mean over classes it is defined for."""

    def compute(rows: ClassificationRows, weights: FloatArray) -> FloatArray:
        import numpy as np

        assert rows.proba is not None  # metric_values checked it
        if rows.binary:
            return metric(rows.proba[:, 1], rows.y_true == 1, weights)
        per_class = np.column_stack(
            [metric(rows.proba[:, k], rows.y_true == k, weights) for k in range(len(rows.labels))]
        )
        return _macro(per_class, np.isfinite(per_class))

    return compute


def _log_loss(rows: ClassificationRows, weights: FloatArray) -> FloatArray:
    import numpy as np

    assert rows.proba is not None  # metric_values checked it
    eps = np.finfo(np.float64).eps
    truth_score = np.clip(rows.proba[np.arange(rows.n), rows.y_true], eps, 1 - eps)
    return ratio(weights @ -np.log(truth_score), weights.sum(axis=1))


def _rmse(rows: RegressionRows, weights: FloatArray) -> FloatArray:
    import numpy as np

    return np.sqrt(ratio(weights @ (rows.y_true - rows.y_pred) ** 2, weights.sum(axis=1)))


def _mae(rows: RegressionRows, weights: FloatArray) -> FloatArray:
    import numpy as np

    return ratio(weights @ np.abs(rows.y_true - rows.y_pred), weights.sum(axis=1))


def _r2(rows: RegressionRows, weights: FloatArray) -> FloatArray:
    # Centre first: Σw·y² - (Σw·y)²/Σw loses digits when the mean dwarfs the spread.
    centred = rows.y_true - rows.y_true.mean()
    total = weights.sum(axis=1)
    spread = weights @ centred**2 - ratio((weights @ centred) ** 2, total)
    residual = weights @ (rows.y_true - rows.y_pred) ** 2
    return 1.0 - ratio(residual, spread)


def _mape(rows: RegressionRows, weights: FloatArray) -> FloatArray:
    import numpy as np

    nonzero = rows.y_true != 0
    safe_truth = np.where(nonzero, rows.y_true, 1.0)
    relative = np.where(nonzero, np.abs(rows.y_true - rows.y_pred) / np.abs(safe_truth), 0.0)
    return ratio(weights @ relative, weights @ nonzero)


_CLASSIFICATION: dict[str, Callable[[ClassificationRows, FloatArray], FloatArray]] = {
    "accuracy": _accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "roc_auc": _one_vs_rest(weighted_roc_auc),
    "pr_auc": _one_vs_rest(weighted_average_precision),
    "log_loss": _log_loss,
    "calibration_error": expected_calibration_error,
}
_REGRESSION: dict[str, Callable[[RegressionRows, FloatArray], FloatArray]] = {
    "rmse": _rmse,
    "mae": _mae,
    "r2": _r2,
    "mape": _mape,
}
