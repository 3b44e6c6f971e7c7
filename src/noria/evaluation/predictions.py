"""Per-row outcomes of one model on one table: what every metric and bootstrap reads.

Labels are encoded once as indices into ``labels`` so that metrics, slices and the
bootstrap work on small integer and float arrays, never on the original objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray: TypeAlias = npt.NDArray[np.float64]
    IntArray: TypeAlias = npt.NDArray[np.int64]
    BoolArray: TypeAlias = npt.NDArray[np.bool_]

Label: TypeAlias = str | int | float | bool


@dataclass(frozen=True, eq=False)
class ClassificationRows:
    """A classifier's answers; ``proba`` columns follow ``labels`` (None without scores).

    With two labels the second one is the positive class, as in scikit-learn's
    ``predict_proba(X)[:, 1]``.
    """

    labels: tuple[Label, ...]
    y_true: IntArray
    y_pred: IntArray
    proba: FloatArray | None

    @property
    def n(self) -> int:
        return len(self.y_true)

    @property
    def binary(self) -> bool:
        return len(self.labels) == 2


@dataclass(frozen=True, eq=False)
class RegressionRows:
    """A regressor's answers next to the truth."""

    y_true: FloatArray
    y_pred: FloatArray

    @property
    def n(self) -> int:
        return len(self.y_true)


Rows: TypeAlias = ClassificationRows | RegressionRows


def classification_rows(
    y_true: Iterable[Any], y_pred: Iterable[Any], proba: Any, model_classes: Iterable[Any] | None
) -> ClassificationRows:
    """Encode labels against the model's classes (or, lacking them, the labels seen).

    ``proba`` is None, one column per class in ``model_classes`` order, or (binary) the
    positive-class column alone.
    """
    import numpy as np

    truth, predicted = list(y_true), list(np.asarray(y_pred).ravel())
    if len(predicted) != len(truth):
        raise InvalidArgument(
            f"the predictor returned {len(predicted)} predictions for {len(truth)} rows; "
            "predict(X) must return one prediction per row"
        )
    classes = None if model_classes is None else list(model_classes)
    labels = _labels(truth, predicted, classes)
    index = {label: position for position, label in enumerate(labels)}
    scores = _probabilities(proba, len(truth), len(labels))
    return ClassificationRows(
        labels=labels,
        y_true=_encode(truth, index, "the label column", classes),
        y_pred=_encode(predicted, index, "the predictions", classes),
        proba=scores,
    )


def regression_rows(y_true: Iterable[Any], y_pred: Iterable[Any]) -> RegressionRows:
    import numpy as np

    try:
        truth = np.asarray(y_true, dtype=np.float64)
        predicted = np.asarray(y_pred, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"regression needs numbers in the label and the predictions ({exc}); "
            "pass task='classification' for class labels"
        ) from None
    if predicted.shape != truth.shape:
        raise InvalidArgument(
            f"the predictor returned {predicted.size} values for {truth.size} rows; "
            "predict(X) must return one number per row"
        )
    _require_finite(truth, "the label column")
    _require_finite(predicted, "the predictions")
    return RegressionRows(y_true=truth, y_pred=predicted)


def _labels(
    truth: list[Any], predicted: list[Any], model_classes: Sequence[Any] | None
) -> tuple[Label, ...]:
    if model_classes is not None:
        return tuple(plain_value(value) for value in model_classes)
    seen = {plain_value(value) for value in (*truth, *predicted)}
    # Mixed types cannot be compared; order them by type name, then value, deterministically.
    return tuple(sorted(seen, key=lambda value: (type(value).__name__, value)))


def _encode(
    values: list[Any], index: dict[Label, int], what: str, model_classes: Sequence[Any] | None
) -> IntArray:
    import numpy as np

    unknown = {plain_value(value) for value in values} - index.keys()
    if unknown:
        shown = sorted(map(repr, unknown))[:5]
        origin = "the model's classes_" if model_classes is not None else "the known labels"
        raise InvalidArgument(
            f"{what} holds labels that are not among {origin} {list(index)}: "
            f"{', '.join(shown)}; evaluate on data with the labels the model was trained on"
        )
    return np.fromiter((index[plain_value(value)] for value in values), np.int64, len(values))


def _probabilities(proba: Any, rows: int, classes: int) -> FloatArray | None:
    import numpy as np

    if proba is None:
        return None
    scores = np.asarray(proba, dtype=np.float64)
    if scores.ndim == 1 and classes == 2:  # one positive-class column
        scores = np.column_stack([1.0 - scores, scores])
    if scores.shape != (rows, classes):
        raise InvalidArgument(
            f"predict_proba returned shape {scores.shape}, expected ({rows}, {classes}): "
            "one column per label; give the predictor a `classes_` attribute naming the "
            "label of each column"
        )
    _require_finite(scores, "predict_proba")
    return scores


def _require_finite(values: FloatArray, what: str) -> None:
    import numpy as np

    bad = int(values.size - np.count_nonzero(np.isfinite(values)))
    if bad:
        raise InvalidArgument(
            f"{what} holds {bad} missing or infinite values; drop or fill those rows first"
        )


def plain_value(value: Any) -> Label:
    """numpy scalars as Python ones, so labels hash alike and serialise as JSON."""
    item = getattr(value, "item", None)
    plain = item() if callable(item) else value
    if isinstance(plain, str | int | float | bool):
        return plain
    return str(plain)
