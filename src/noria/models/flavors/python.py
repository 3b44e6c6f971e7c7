"""Any model as a plain Python class: subclass :class:`PythonModel`.

>>> class Doubler(PythonModel):
...     def predict(self, data):
...         return data * 2

The instance is saved with the standard ``pickle`` (no cloudpickle: the class is referenced by
its module, so that module must be importable where the model loads; ship your own with
``code_paths``), and the files named in ``artifacts`` are copied into the model directory. On
load, :meth:`PythonModel.load_context` receives their paths before the first prediction.
"""

from __future__ import annotations

import pickle
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noria.errors import InvalidArgument, NotFound
from noria.models.flavors.base import (
    SaveContext,
    module_roots,
    no_probabilities,
    payload_file,
    qualified_name,
    refuse_main_module,
)

_FILE = "python_model.pkl"
_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ModelContext:
    """What a loading model may read: its artifacts' paths, by the names given at save."""

    artifacts: dict[str, Path] = field(default_factory=dict)
    directory: Path | None = None  # the model directory


class PythonModel(ABC):
    """Base class for models no other flavor covers."""

    def load_context(self, context: ModelContext) -> None:  # noqa: B027  # optional hook
        """Called once after loading: open artifacts, build what :meth:`predict` needs."""

    @abstractmethod
    def predict(self, data: Any) -> Any:
        """Predictions for a batch (already checked against the signature)."""


class PythonPredictor:
    def __init__(self, model: PythonModel) -> None:
        self._model = model

    @property
    def raw(self) -> PythonModel:
        return self._model

    def predict(self, data: Any) -> Any:
        return self._model.predict(data)

    def predict_proba(self, data: Any) -> Any:
        predict_proba = getattr(self._model, "predict_proba", None)
        if predict_proba is None:
            raise no_probabilities("python", self._model, "its class defines no predict_proba")
        return predict_proba(data)


class PythonFlavor:
    name = "python"

    def handles(self, model: Any) -> bool:
        return isinstance(model, PythonModel)

    def required_modules(self, model: Any) -> list[str]:
        return module_roots([model])

    def save(self, model: Any, context: SaveContext) -> dict[str, Any]:
        refuse_main_module([model], self.name)
        stored = {
            name: _copy_artifact(name, Path(source), context.directory)
            for name, source in context.artifacts.items()
        }
        try:
            with (context.directory / _FILE).open("wb") as out:
                pickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise InvalidArgument(
                f"the {qualified_name(type(model))} instance cannot be pickled ({exc}); keep "
                "only picklable state on it and open files in load_context from artifacts"
            ) from None
        return {"file": _FILE, "class": qualified_name(type(model)), "artifacts": stored}

    def load(self, directory: Path, payload: Mapping[str, Any]) -> PythonPredictor:
        with payload_file(directory, payload).open("rb") as source:
            model = pickle.load(source)  # a model directory is trusted code
        if not isinstance(model, PythonModel):
            raise InvalidArgument(
                f"{directory / _FILE} holds a {qualified_name(type(model))}, not a PythonModel"
            )
        stored = payload.get("artifacts") or {}
        artifacts = {name: payload_file(directory, stored, name) for name in stored}
        model.load_context(ModelContext(artifacts=artifacts, directory=directory))
        return PythonPredictor(model)


def _copy_artifact(name: str, source: Path, directory: Path) -> str:
    """Copy a file or folder to ``artifacts/<name>/`` and return its path in the model."""
    if not _ARTIFACT_NAME.match(name):
        raise InvalidArgument(
            f"artifact name {name!r} must be letters, digits, '_', '.' or '-' "
            "(it becomes a folder name)"
        )
    if not source.exists():
        raise NotFound(f"artifact {name!r}: nothing at {source}")
    target = directory / "artifacts" / name
    target.mkdir(parents=True)
    if source.is_dir():
        shutil.copytree(source, target / source.name)
    else:
        shutil.copy2(source, target / source.name)
    return f"artifacts/{name}/{source.name}"


FLAVOR = PythonFlavor()
