"""Evaluate a predictor on a labelled table: metrics, slices, plots and explanations.

>>> result = evaluate_predictor(model, frame, label="churned", slices=["country"])
>>> result.metrics["roc_auc"], result.plots["roc"][:4]
(0.91..., '<svg')

A predictor is anything with ``predict(X)``; for classification it may also have
``predict_proba(X)`` (one column per class) and ``classes_`` (the label of each
column, as scikit-learn estimators do). ``X`` is the table without the label column
(or the ``features`` columns when given). The task is inferred when not given: a
predictor with ``classes_`` or ``predict_proba``, or a non-numeric or boolean label,
means classification; otherwise regression.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument
from noria.evaluation.explain import (
    SHAP_MISSING_NOTE,
    load_shap,
    permutation_importance,
    shap_importance,
)
from noria.evaluation.metrics import PROBABILITY_METRICS, Task, available_metrics, point_metrics
from noria.evaluation.plots import classification_plots, regression_plots
from noria.evaluation.predictions import (
    ClassificationRows,
    Rows,
    classification_rows,
    regression_rows,
)
from noria.evaluation.results import (
    EvaluationResult,
    FeatureImportance,
    SliceMetrics,
)
from noria.evaluation.slices import slice_metrics

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EvaluationResult", "FeatureImportance", "SliceMetrics", "evaluate_predictor"]

# Permutation importance runs on at most this many rows (a seeded sample).
EXPLAIN_ROWS = 2_000


def evaluate_predictor(
    predictor: Any,
    data: pd.DataFrame,
    *,
    label: str,
    task: Task | None = None,
    slices: Sequence[str] = (),
    explain: bool = True,
    random_state: int = 0,
    features: Sequence[str] | None = None,
) -> EvaluationResult:
    """Score ``predictor`` on ``data`` against its ``label`` column.

    ``slices`` names columns to break the metrics down by (one slice per value);
    ``explain=False`` skips feature importance, the slowest part.
    """
    columns = _feature_columns(data, label, slices, features)
    frame, truth = data[columns], data[label].to_numpy()
    chosen = _task(predictor, data[label], task)
    rows = predict_rows(predictor, frame, truth, chosen)
    metrics = point_metrics(rows)
    slice_results, notes = slice_metrics(rows, data, slices)
    notes = [*_metric_notes(rows, metrics), *notes]
    importance: list[FeatureImportance] = []
    if explain:
        scoring = _importance_scoring(rows, metrics)
        importance, explain_notes = _explanations(
            predictor, frame, truth, rows, scoring=scoring, random_state=random_state
        )
        notes.extend(explain_notes)
    result = EvaluationResult(
        task=chosen,
        label=label,
        rows=rows.n,
        data_digest=table_digest(data),
        metrics=metrics,
        slices=slice_results,
        importance=importance,
        plots=_plots(rows, random_state),
        notes=notes,
        **(_class_fields(rows) if isinstance(rows, ClassificationRows) else {}),
    )
    return result.with_predictions(rows)


def predict_rows(predictor: Any, frame: pd.DataFrame, truth: Any, task: Task) -> Rows:
    """Run the predictor on ``frame`` and pair its answers with ``truth``."""
    predict = getattr(predictor, "predict", None)
    if not callable(predict):
        raise InvalidArgument(
            f"{type(predictor).__name__} has no predict(X) method; pass a fitted model "
            "or a loaded Noria model"
        )
    if task == "regression":
        return regression_rows(truth, predict(frame))
    predict_proba = getattr(predictor, "predict_proba", None)
    proba = predict_proba(frame) if callable(predict_proba) else None
    classes = getattr(predictor, "classes_", None)
    return classification_rows(
        truth, predict(frame), proba, None if classes is None else list(classes)
    )


def table_digest(data: pd.DataFrame) -> str:
    """sha256 of the table's column names, types and values: "the same evaluation data"."""
    import pandas as pd

    digest = hashlib.sha256(repr([(str(c), str(t)) for c, t in data.dtypes.items()]).encode())
    try:
        values = pd.util.hash_pandas_object(data, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): hash their text instead
        values = pd.util.hash_pandas_object(data.astype(str), index=False).to_numpy()
    digest.update(values.tobytes())
    return f"sha256:{digest.hexdigest()}"


def _feature_columns(
    data: Any, label: str, slices: Sequence[str], features: Sequence[str] | None
) -> list[str]:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise InvalidArgument(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise InvalidArgument("data has no rows; evaluate on a non-empty table")
    present = [str(column) for column in data.columns]
    for role, names in (("label", [label]), ("slice", slices), ("feature", features or ())):
        missing = [name for name in names if name not in data.columns]
        if missing:
            raise InvalidArgument(
                f"{role} column {missing[0]!r} is not in the data; its columns are {present}"
            )
    nulls = int(data[label].isna().sum())
    if nulls:
        raise InvalidArgument(
            f"the label column {label!r} has {nulls} missing values; drop those rows first"
        )
    return list(features) if features is not None else [c for c in data.columns if c != label]


def _task(predictor: Any, labels: pd.Series, task: Task | None) -> Task:
    import pandas as pd

    if task is not None:
        if task not in ("classification", "regression"):
            raise InvalidArgument(f"task must be 'classification' or 'regression', got {task!r}")
        return task
    if hasattr(predictor, "classes_") or callable(getattr(predictor, "predict_proba", None)):
        return "classification"
    numeric = pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels)
    return "regression" if numeric else "classification"


def _class_fields(rows: ClassificationRows) -> dict[str, Any]:
    import numpy as np

    size = len(rows.labels)
    matrix = np.bincount(rows.y_true * size + rows.y_pred, minlength=size * size)
    return {
        "averaging": "binary" if rows.binary else "macro",
        "positive_label": rows.labels[1] if rows.binary else None,
        "labels": list(rows.labels),
        "confusion_matrix": matrix.reshape(size, size).tolist(),
    }


def _metric_notes(rows: Rows, metrics: dict[str, float]) -> list[str]:
    notes = []
    if isinstance(rows, ClassificationRows) and rows.proba is None:
        left_out = ", ".join(sorted(PROBABILITY_METRICS))
        notes.append(f"the predictor has no predict_proba: {left_out} and the plots are left out")
    undefined = [name for name in available_metrics(rows) if name not in metrics]
    if undefined:
        notes.append(
            f"undefined on this data and left out: {', '.join(undefined)} (e.g. a single "
            "class, or every label zero for mape)"
        )
    if not isinstance(rows, ClassificationRows) and "mape" in metrics:
        zeros = int((rows.y_true == 0).sum())
        if zeros:
            notes.append(f"mape leaves out the {zeros} rows whose label is 0")
    return notes


def _plots(rows: Rows, random_state: int) -> dict[str, str]:
    if isinstance(rows, ClassificationRows):
        return classification_plots(rows)
    return regression_plots(rows, random_state=random_state)


def _explanations(
    predictor: Any, frame: pd.DataFrame, truth: Any, rows: Rows, *, scoring: str, random_state: int
) -> tuple[list[FeatureImportance], list[str]]:
    """Permutation importance on (a sample of) the rows, then SHAP when installed."""
    import numpy as np

    task: Task = "classification" if isinstance(rows, ClassificationRows) else "regression"
    chosen = np.arange(rows.n)
    if rows.n > EXPLAIN_ROWS:
        chosen = np.sort(np.random.default_rng(random_state).choice(rows.n, EXPLAIN_ROWS, False))
    sample, sample_truth = frame.iloc[chosen].reset_index(drop=True), truth[chosen]

    def rows_for(batch: pd.DataFrame) -> Rows:
        copies = len(batch) // len(sample)
        return predict_rows(predictor, batch, np.tile(sample_truth, copies), task)

    importance = permutation_importance(rows_for, sample, scoring, random_state=random_state)
    shap = load_shap()
    if shap is None:
        return importance, [SHAP_MISSING_NOTE]
    output = _explained_output(predictor, rows)
    if output is None:
        return importance, ["SHAP values skipped: a classifier needs predict_proba for them"]
    try:
        importance += shap_importance(shap, output, sample, random_state=random_state)
    except (ValueError, TypeError) as exc:  # e.g. features shap cannot hold in an array
        return importance, [f"SHAP values skipped: {exc}"]
    return importance, []


def _importance_scoring(rows: Rows, metrics: dict[str, float]) -> str:
    """A higher-is-better metric: ROC AUC with probabilities, else accuracy; R² for regression."""
    if not isinstance(rows, ClassificationRows):
        return "r2"
    return "roc_auc" if "roc_auc" in metrics else "accuracy"


def _explained_output(predictor: Any, rows: Rows) -> Any:
    """What SHAP explains: the prediction, or the class probabilities (positive class if binary)."""
    import numpy as np

    if not isinstance(rows, ClassificationRows):
        return predictor.predict
    if rows.proba is None:
        return None
    if rows.binary:
        return lambda batch: np.asarray(predictor.predict_proba(batch))[:, 1]
    return predictor.predict_proba
