"""Model performance on the labelled rows of a window, with the evaluation metric suite.

Labels arrive through ``POST /v1/feedback`` as text, numbers or booleans; the logged answer is
``prediction`` (and ``proba`` when the model answers with class probabilities: one number, the
positive class's, or a list in sorted class order, as scikit-learn's ``classes_``). Where the
two sides disagree in kind (text labels, numeric predictions), both are compared as text.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from noria.domain.monitors import Task
from noria.errors import InvalidArgument
from noria.evaluation.metrics import point_metrics
from noria.evaluation.predictions import (
    Rows,
    classification_rows,
    plain_value,
    regression_rows,
)

if TYPE_CHECKING:
    import pyarrow as pa

PREFIX = "performance."


def performance_figures(labelled: pa.Table, task: Task) -> tuple[dict[str, float], list[str]]:
    """``performance.<metric>`` figures of the rows (all labelled), and notes on what could
    not be computed."""
    if labelled.num_rows == 0:
        return {}, []
    if "prediction" not in labelled.column_names:
        return {}, ["the log has no 'prediction' column to compare the labels with"]
    truth = [plain_value(value) for value in labelled["label"].to_pylist()]
    answers = labelled["prediction"].to_pylist()
    notes: list[str] = []
    try:
        if task == "regression":
            rows: Rows = regression_rows(truth, answers)
        else:
            rows = _classification(truth, answers, labelled, notes)
    except InvalidArgument as exc:
        return {}, [f"performance not computed: {exc.message}"]
    metrics = point_metrics(rows)
    return {PREFIX + name: value for name, value in metrics.items() if math.isfinite(value)}, notes


def _classification(
    truth: list[Any], answers: list[Any], table: pa.Table, notes: list[str]
) -> Rows:
    predicted = [None if value is None else plain_value(value) for value in answers]
    if None in predicted:
        raise InvalidArgument("some labelled rows have no prediction")
    if _mixed_kinds(truth, predicted):
        truth, predicted = [str(v) for v in truth], [str(v) for v in predicted]
    classes = sorted(set(truth) | set(predicted), key=lambda v: (type(v).__name__, v))
    proba = _probabilities(table, len(classes), notes)
    return classification_rows(truth, predicted, proba, classes if proba is not None else None)


def _mixed_kinds(truth: list[Any], predicted: list[Any]) -> bool:
    texts = {isinstance(value, str) for value in (*truth, *predicted)}
    return len(texts) > 1


def _probabilities(table: pa.Table, classes: int, notes: list[str]) -> Any:
    """The logged probabilities when they fit the classes seen, else None (with a note)."""
    import numpy as np

    if "proba" not in table.column_names:
        return None
    values = table["proba"].to_pylist()
    if any(value is None for value in values):
        notes.append("probability metrics left out: some rows have no proba")
        return None
    if all(isinstance(value, int | float) for value in values):
        if classes == 2:
            return np.asarray(values, dtype=np.float64)
        notes.append(f"probability metrics left out: one proba per row, but {classes} classes seen")
        return None
    widths = {len(value) if isinstance(value, list) else -1 for value in values}
    if widths == {classes}:
        return np.asarray(values, dtype=np.float64)
    notes.append(
        f"probability metrics left out: proba has {sorted(widths)} values per row, "
        f"but {classes} classes were seen in this window"
    )
    return None
