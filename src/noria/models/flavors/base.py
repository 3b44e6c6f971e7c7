"""The flavor protocol, and the registry of the flavors Noria knows by name.

A flavor saves one kind of model into a directory in its library's native format and loads
it back as a :class:`Predictor`. Flavors import their library only inside ``save``/``load``,
and tell their models apart without importing it: a model can only be a ``torch.nn.Module``
if ``torch`` is already imported.

The registry is a fixed table from name to module (never a name read from a file or a
request), imported on first use.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from noria.errors import InvalidArgument, NotFound, Unsupported

# Detection order matters: XGBoost and LightGBM models are scikit-learn estimators too.
_FLAVOR_MODULES = {
    "python": "noria.models.flavors.python",
    "onnx": "noria.models.flavors.onnx",
    "pytorch": "noria.models.flavors.pytorch",
    "xgboost": "noria.models.flavors.xgboost",
    "lightgbm": "noria.models.flavors.lightgbm",
    "sklearn": "noria.models.flavors.sklearn",
}


class Predictor(Protocol):
    """A loaded model, ready to predict on data that already fits its signature."""

    @property
    def raw(self) -> Any:
        """The library's own model object."""
        ...

    def predict(self, data: Any) -> Any: ...

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities; Unsupported when the model has none."""
        ...


@dataclass(frozen=True)
class SaveContext:
    """What a flavor may use while saving, besides the model."""

    directory: Path  # the model directory being written (the payload goes in it)
    input_example: Any = None  # normalised: a DataFrame, an ndarray or a dict of ndarrays
    artifacts: Mapping[str, Path] = field(default_factory=dict)


class ModelFlavor(Protocol):
    """Saves one kind of model in its native format and loads it back."""

    @property
    def name(self) -> str: ...

    def handles(self, model: Any) -> bool:
        """Whether ``model`` is of a kind this flavor saves (without importing its library)."""
        ...

    def required_modules(self, model: Any) -> list[str]:
        """Top-level modules whose distributions the saved model needs to load."""
        ...

    def save(self, model: Any, context: SaveContext) -> dict[str, Any]:
        """Write the payload into ``context.directory``; the returned record (file names,
        model class, format) goes into the manifest and comes back to :meth:`load`."""
        ...

    def load(self, directory: Path, payload: Mapping[str, Any]) -> Predictor: ...


def flavor_names() -> tuple[str, ...]:
    return tuple(_FLAVOR_MODULES)


def get_flavor(name: str) -> ModelFlavor:
    """The flavor called ``name``; InvalidArgument listing the known ones otherwise."""
    module_name = _FLAVOR_MODULES.get(name)
    if module_name is None:
        raise InvalidArgument(
            f"unknown model flavor {name!r}; Noria knows {', '.join(_FLAVOR_MODULES)}"
        )
    flavor: ModelFlavor = importlib.import_module(module_name).FLAVOR
    return flavor


def detect_flavor(model: Any) -> ModelFlavor:
    """The first flavor that saves ``model``; InvalidArgument listing the flavors otherwise."""
    for name in _FLAVOR_MODULES:
        flavor = get_flavor(name)
        if flavor.handles(model):
            return flavor
    raise InvalidArgument(
        f"no Noria flavor saves a {qualified_name(type(model))}; the flavors are "
        "sklearn (estimators and pipelines), xgboost, lightgbm (sklearn API or Booster), "
        "pytorch (torch.nn.Module), onnx (ModelProto or a .onnx path) and python: wrap the "
        "model in a noria.models.flavors.python.PythonModel subclass"
    )


def loaded_module(name: str) -> Any:
    """The module if something already imported it, else None (so detection imports nothing).

    A module another thread is still importing counts as not imported: its attributes
    may not exist yet.
    """
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    if spec is not None and getattr(spec, "_initializing", False):
        return None
    return module


def import_library(flavor: str, module: str, distribution: str) -> Any:
    """Import a flavor's library, or say which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Unsupported(
            f"the {flavor} flavor needs {distribution}, which is not installed ({exc}); "
            f"pip install {distribution} (the model's requirements.txt has the exact version)"
        ) from None


def qualified_name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def defining_module(obj: Any) -> str:
    """The module that defines ``obj``: its own for a class or function, else its class's."""
    if isinstance(obj, type) or inspect.isfunction(obj):
        return str(obj.__module__)
    return type(obj).__module__


def module_roots(objects: Iterable[Any]) -> list[str]:
    """The top-level modules defining the objects, sorted, without duplicates."""
    return sorted({defining_module(obj).split(".")[0] for obj in objects})


def refuse_main_module(objects: Iterable[Any], flavor: str) -> None:
    """Pickles refer to classes by module; one defined in ``__main__`` cannot load elsewhere."""
    for obj in objects:
        if defining_module(obj) == "__main__":
            name = getattr(obj, "__qualname__", type(obj).__qualname__)
            raise InvalidArgument(
                f"the {flavor} model uses {name}, defined in the script being run (__main__), "
                "which no other process can import: move it into a module and pass that "
                "module's file in code_paths"
            )


def payload_file(directory: Path, payload: Mapping[str, Any], key: str = "file") -> Path:
    """The payload file the manifest names under ``key``; it must be in ``directory``."""
    name = payload.get(key)
    where = f"the model manifest in {directory}, field 'payload.{key}'"
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"{where} is missing; it names the model's payload file")
    path = directory / name
    if directory.resolve() not in path.resolve().parents:
        raise InvalidArgument(f"{where}: {name!r} points outside the model directory")
    if not path.exists():
        raise NotFound(
            f"the payload {name!r} named in {where} is missing from {directory}; the model "
            "directory is incomplete: copy it again or save the model again"
        )
    return path


def no_probabilities(flavor: str, model: Any, why: str = "") -> Unsupported:
    reason = f": {why}" if why else ""
    return Unsupported(
        f"this {flavor} model ({qualified_name(type(model))}) gives no class "
        f"probabilities{reason}; use predict"
    )
