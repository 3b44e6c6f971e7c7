"""A loaded model as the evaluator sees it (``noria.evaluation`` takes any predictor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from noria.models.format import LoadedModel


class EvaluablePredictor:
    """``predict``, and ``predict_proba`` and ``classes_`` only when the model has usable
    ones: the evaluator leaves probability metrics out for a model without them."""

    def __init__(self, model: LoadedModel, sample: pd.DataFrame) -> None:
        self.predict = model.predict
        classes = getattr(model.raw, "classes_", None)
        if classes is not None:
            self.classes_ = classes
        try:
            model.predict_proba(sample)
        except Exception:  # noqa: BLE001 - no usable probabilities: evaluate without them
            return
        self.predict_proba = model.predict_proba
