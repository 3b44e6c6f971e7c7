"""What an evaluation returns: plain, serialisable figures, plus the per-row answers.

The per-row answers (:attr:`EvaluationResult.predictions`) stay in memory only: gates
resample them to compare a candidate with its champion, and :meth:`~EvaluationResult.to_dict`
leaves them out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from noria.evaluation.metrics import Task
from noria.evaluation.predictions import Label, Rows


class SliceMetrics(BaseModel):
    """Metrics over the rows where ``column`` equals ``value`` (None: the value is missing).

    ``small`` flags slices with too few rows for their figures to mean much.
    """

    model_config = ConfigDict(frozen=True)

    column: str
    value: Label | None
    rows: int
    small: bool
    metrics: dict[str, float]


class FeatureImportance(BaseModel):
    """How much one feature matters.

    ``permutation``: the drop in ``scoring`` when the feature's values are shuffled (mean
    over repeats, ``std`` their spread). ``shap``: the mean absolute SHAP value.
    """

    model_config = ConfigDict(frozen=True)

    feature: str
    method: Literal["permutation", "shap"]
    importance: float
    std: float | None = None
    scoring: str


class EvaluationResult(BaseModel):
    """One model's evaluation on one table.

    ``averaging`` says how precision, recall and f1 were formed: ``binary`` (for
    ``positive_label``) or ``macro`` (the mean over classes). ``confusion_matrix`` rows
    are true labels and columns predicted ones, both in ``labels`` order. ``plots`` maps
    "roc", "pr", "calibration" (classification) or "residuals" (regression) to SVG text.
    ``notes`` explain anything left out (a metric undefined here, SHAP not installed).
    """

    model_config = ConfigDict(frozen=True)

    task: Task
    label: str
    rows: int
    data_digest: str
    metrics: dict[str, float]
    averaging: Literal["binary", "macro"] | None = None
    positive_label: Label | None = None
    labels: list[Label] | None = None
    confusion_matrix: list[list[int]] | None = None
    slices: list[SliceMetrics] = []
    importance: list[FeatureImportance] = []
    plots: dict[str, str] = {}
    notes: list[str] = []
    _predictions: Rows | None = PrivateAttr(default=None)

    @property
    def predictions(self) -> Rows | None:
        """The per-row answers behind the figures; None once serialised and read back."""
        return self._predictions

    def with_predictions(self, predictions: Rows) -> EvaluationResult:
        """A copy of this result carrying its per-row answers (for gates' paired bootstrap)."""
        copy = self.model_copy()
        copy._predictions = predictions
        return copy

    def to_dict(self, *, plots: bool = True) -> dict[str, Any]:
        """JSON-ready figures; ``plots=False`` leaves out the SVG text (store it as files)."""
        return self.model_dump(mode="json", exclude=None if plots else {"plots"})
