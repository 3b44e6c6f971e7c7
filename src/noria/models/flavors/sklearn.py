"""scikit-learn estimators and pipelines.

scikit-learn has no portable format of its own. With ``skops`` installed the payload is a
``.skops`` file, whose loader builds only the types it is told to trust (here: those from the
libraries the manifest records); without it, a joblib pickle, which runs whatever code the file
names when loaded, so load such a model only from a store you trust.
"""

from __future__ import annotations

import importlib.util
import inspect
import pickle
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from noria.errors import InvalidArgument
from noria.models.flavors.base import (
    SaveContext,
    import_library,
    loaded_module,
    module_roots,
    no_probabilities,
    payload_file,
    qualified_name,
    refuse_main_module,
)

_SAFE_ROOTS = frozenset({"sklearn", "numpy", "scipy"})
# The standard library can run commands and open files: never trusted wholesale.
_UNSAFE_ROOTS = frozenset(sys.stdlib_module_names) | {"__main__"}


class SklearnPredictor:
    def __init__(self, model: Any) -> None:
        self._model = model

    @property
    def raw(self) -> Any:
        return self._model

    def predict(self, data: Any) -> Any:
        return self._model.predict(data)

    def predict_proba(self, data: Any) -> Any:
        # Pipelines expose predict_proba only when their last step has it.
        if not hasattr(self._model, "predict_proba"):
            raise no_probabilities("sklearn", self._model, "its (final) estimator has none")
        return self._model.predict_proba(data)


class SklearnFlavor:
    name = "sklearn"

    def handles(self, model: Any) -> bool:
        sklearn_base = loaded_module("sklearn.base")
        return sklearn_base is not None and isinstance(model, sklearn_base.BaseEstimator)

    def required_modules(self, model: Any) -> list[str]:
        serializer = "skops" if _skops_available() else "joblib"
        return sorted({"sklearn", serializer, *module_roots(_parts(model))})

    def save(self, model: Any, context: SaveContext) -> dict[str, Any]:
        _check_fitted(model)
        refuse_main_module(_parts(model), self.name)
        if _skops_available():
            skops_io = import_library(self.name, "skops.io", "skops")
            skops_io.dump(model, context.directory / "model.skops")
            file, serialization = "model.skops", "skops"
            # The libraries of the pipeline's steps, whose types the loader may build.
            trusted = [root for root in module_roots(_parts(model)) if root not in _UNSAFE_ROOTS]
        else:
            joblib = import_library(self.name, "joblib", "joblib")
            try:
                joblib.dump(model, context.directory / "model.joblib")
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise InvalidArgument(
                    f"the sklearn model cannot be pickled ({exc}); lambdas and local functions "
                    "cannot be: use functions defined at a module's top level"
                ) from None
            file, serialization, trusted = "model.joblib", "joblib", []
        record = {
            "file": file,
            "serialization": serialization,
            "class": qualified_name(type(model)),
        }
        return record | ({"trusted_modules": trusted} if trusted else {})

    def load(self, directory: Path, payload: Mapping[str, Any]) -> SklearnPredictor:
        import_library(self.name, "sklearn", "scikit-learn")
        path = payload_file(directory, payload)
        if payload.get("serialization") == "skops":
            declared = payload.get("trusted_modules") or []
            trusted = {str(root) for root in declared if root not in _UNSAFE_ROOTS}
            return SklearnPredictor(_load_skops(path, _SAFE_ROOTS | trusted))
        joblib = import_library(self.name, "joblib", "joblib")
        return SklearnPredictor(joblib.load(path))


def _load_skops(path: Path, trusted_roots: frozenset[str] | set[str]) -> Any:
    skops_io = import_library("sklearn", "skops.io", "skops")
    untrusted = skops_io.get_untrusted_types(file=path)
    unsafe = sorted(name for name in untrusted if name.split(".")[0] not in trusted_roots)
    if unsafe:
        raise InvalidArgument(
            f"{path} builds types from outside the libraries it was saved with "
            f"({', '.join(sorted(trusted_roots))}): {unsafe}; inspect the file, then load it "
            "with skops.io.load(path, trusted=[...]) yourself"
        )
    return skops_io.load(path, trusted=untrusted)


def _parts(model: Any) -> list[Any]:
    """The model and the estimators, functions and classes inside it (pipeline steps, their
    parameters), whose modules the saved model needs."""
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    inner = [
        value
        for value in params.values()
        if hasattr(value, "get_params") or inspect.isfunction(value) or isinstance(value, type)
    ]
    return [model, *inner]


def _check_fitted(model: Any) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(model, "predict"):
        raise InvalidArgument(
            f"{qualified_name(type(model))} has no predict method; the sklearn flavor saves "
            "estimators and pipelines that end in one"
        )
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise InvalidArgument(
            f"{qualified_name(type(model))} is not fitted; call fit before saving it"
        ) from None


def _skops_available() -> bool:
    return importlib.util.find_spec("skops") is not None


FLAVOR = SklearnFlavor()
