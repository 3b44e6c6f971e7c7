"""LightGBM models, native Booster or scikit-learn API, saved as LightGBM's text model.

The text model is LightGBM's portable format, but it holds only the Booster: the scikit-learn
wrapper cannot be rebuilt from it without touching private attributes. So a saved
``LGBMClassifier`` keeps its class labels in the manifest and loads as a Booster with a thin
predictor that answers ``predict`` (labels) and ``predict_proba`` exactly as the classifier
did; ``raw`` is that Booster.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from noria.errors import InvalidArgument
from noria.models.flavors.base import (
    SaveContext,
    import_library,
    loaded_module,
    no_probabilities,
    payload_file,
)

_FILE = "model.txt"


class LightGBMPredictor:
    def __init__(self, booster: Any, classes: list[Any] | None) -> None:
        self._booster = booster
        self._classes = classes  # the classifier's labels; None for a regressor or a Booster

    @property
    def raw(self) -> Any:
        return self._booster

    def predict(self, data: Any) -> Any:
        if self._classes is None:
            return self._booster.predict(data)
        import numpy as np

        # As LGBMClassifier.predict: the label of the most probable class.
        return np.asarray(self._classes)[np.argmax(self.predict_proba(data), axis=1)]

    def predict_proba(self, data: Any) -> Any:
        if self._classes is None:
            why = "it was saved as a regressor, ranker or Booster"
            raise no_probabilities("lightgbm", self._booster, why)
        import numpy as np

        scores = self._booster.predict(data)
        if scores.ndim == 1:  # binary: the booster gives P(positive class) only
            return np.column_stack([1.0 - scores, scores])
        return scores


class LightGBMFlavor:
    name = "lightgbm"

    def handles(self, model: Any) -> bool:
        lightgbm = loaded_module("lightgbm")
        return lightgbm is not None and isinstance(model, lightgbm.Booster | lightgbm.LGBMModel)

    def required_modules(self, model: Any) -> list[str]:
        return ["lightgbm"]

    def save(self, model: Any, context: SaveContext) -> dict[str, Any]:
        import lightgbm

        record: dict[str, Any] = {"file": _FILE, "class": type(model).__name__}
        if isinstance(model, lightgbm.Booster):
            booster = model
        else:
            if not getattr(model, "fitted_", False):
                raise InvalidArgument(
                    f"the {type(model).__name__} is not fitted; call fit before saving it"
                )
            booster = model.booster_
            if isinstance(model, lightgbm.LGBMClassifier):
                record["classes"] = model.classes_.tolist()
        booster.save_model(str(context.directory / _FILE))
        return record

    def load(self, directory: Path, payload: Mapping[str, Any]) -> LightGBMPredictor:
        lightgbm = import_library(self.name, "lightgbm", "lightgbm")
        booster = lightgbm.Booster(model_file=str(payload_file(directory, payload)))
        classes = payload.get("classes")
        if classes is not None and not isinstance(classes, list):
            raise InvalidArgument(
                f"the model manifest in {directory}, field 'payload.classes': expected the "
                f"list of class labels, got {type(classes).__name__}"
            )
        return LightGBMPredictor(booster, classes)


FLAVOR = LightGBMFlavor()
