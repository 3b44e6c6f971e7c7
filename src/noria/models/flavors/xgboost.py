"""XGBoost models, native Booster or scikit-learn API, saved in XGBoost's own UBJSON format.

The file holds the trees and, for the scikit-learn classes, what their wrapper needs (classes,
objective), so it loads without pickle in any XGBoost that reads the format.
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

# The wrapper classes a saved model may name; a subclass is saved as the class it extends.
_SKLEARN_CLASSES = (
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
)
_FILE = "model.ubj"


class XGBoostPredictor:
    def __init__(self, model: Any) -> None:
        self._model = model

    @property
    def raw(self) -> Any:
        return self._model

    def predict(self, data: Any) -> Any:
        import xgboost

        if isinstance(self._model, xgboost.Booster):
            return self._model.predict(xgboost.DMatrix(data, enable_categorical=True))
        return self._model.predict(data)

    def predict_proba(self, data: Any) -> Any:
        if not hasattr(self._model, "predict_proba"):
            why = "a Booster's predict already returns what its objective outputs"
            raise no_probabilities("xgboost", self._model, why)
        return self._model.predict_proba(data)


class XGBoostFlavor:
    name = "xgboost"

    def handles(self, model: Any) -> bool:
        xgboost = loaded_module("xgboost")
        return xgboost is not None and isinstance(model, xgboost.Booster | xgboost.XGBModel)

    def required_modules(self, model: Any) -> list[str]:
        return ["xgboost"]

    def save(self, model: Any, context: SaveContext) -> dict[str, Any]:
        import xgboost

        if isinstance(model, xgboost.Booster):
            model_class = "Booster"
        else:
            model_class = _wrapper_class(model)
            if not hasattr(model, "_Booster"):
                raise InvalidArgument(f"the {model_class} is not fitted; call fit before saving")
        model.save_model(str(context.directory / _FILE))
        return {"file": _FILE, "class": model_class, "format": "ubj"}

    def load(self, directory: Path, payload: Mapping[str, Any]) -> XGBoostPredictor:
        xgboost = import_library(self.name, "xgboost", "xgboost")
        path = payload_file(directory, payload)
        model_class = payload.get("class", "Booster")
        if model_class != "Booster" and model_class not in _SKLEARN_CLASSES:
            raise InvalidArgument(
                f"the model manifest in {directory}, field 'payload.class': {model_class!r} is "
                f"not an XGBoost model class ({', '.join(('Booster', *_SKLEARN_CLASSES))})"
            )
        model = getattr(xgboost, model_class)()
        model.load_model(str(path))
        return XGBoostPredictor(model)


def _wrapper_class(model: Any) -> str:
    for kind in type(model).__mro__:
        if kind.__name__ in _SKLEARN_CLASSES and kind.__module__.startswith("xgboost"):
            return kind.__name__
    raise InvalidArgument(
        f"{type(model).__name__} is an XGBoost model class Noria cannot restore; save its "
        f"Booster (model.get_booster()) or use one of {', '.join(_SKLEARN_CLASSES)}"
    )


FLAVOR = XGBoostFlavor()
