"""ONNX models (a ``ModelProto`` or the path of a ``.onnx`` file), run with onnxruntime on the CPU.

``raw`` is the ``onnxruntime.InferenceSession``. ``predict`` feeds an array to a one-input
model, a dict of arrays by input name, or a DataFrame (its values for one input, or one column
per input, as skl2onnx names them); inputs are cast to the types the graph declares. It returns
the output when there is one, else a dict of outputs by name. ``predict_proba`` returns the
output whose name says "probabilit…" (skl2onnx's ``output_probability``), as a 2-D array.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from noria.errors import InvalidArgument, NotFound
from noria.models.flavors.base import (
    SaveContext,
    import_library,
    loaded_module,
    no_probabilities,
    payload_file,
)

_FILE = "model.onnx"
_ELEMENT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class OnnxPredictor:
    def __init__(self, session: Any) -> None:
        self._session = session

    @property
    def raw(self) -> Any:
        return self._session

    def predict(self, data: Any) -> Any:
        outputs = self._run(data)
        if len(outputs) == 1:
            return next(iter(outputs.values()))
        return outputs

    def predict_proba(self, data: Any) -> Any:
        names = [o.name for o in self._session.get_outputs() if "prob" in o.name.lower()]
        if not names:
            raise no_probabilities("onnx", self._session, "no output is named for them")
        import numpy as np

        probabilities = self._run(data)[names[0]]
        if isinstance(probabilities, list):  # skl2onnx's ZipMap: one {label: p} per row
            return np.array([list(row.values()) for row in probabilities])
        return probabilities

    def _run(self, data: Any) -> dict[str, Any]:
        feeds = _feeds(self._session.get_inputs(), data)
        names = [output.name for output in self._session.get_outputs()]
        return dict(zip(names, self._session.run(names, feeds), strict=True))


class OnnxFlavor:
    name = "onnx"

    def handles(self, model: Any) -> bool:
        if isinstance(model, str | Path):
            return str(model).endswith(".onnx")
        onnx = loaded_module("onnx")
        return onnx is not None and isinstance(model, onnx.ModelProto)

    def required_modules(self, model: Any) -> list[str]:
        return ["onnx", "onnxruntime"]

    def save(self, model: Any, context: SaveContext) -> dict[str, Any]:
        import onnx

        target = context.directory / _FILE
        if isinstance(model, str | Path):
            source = Path(model)
            if not source.is_file():
                raise NotFound(f"no ONNX file at {source}")
            try:
                onnx.load(str(source))
            except Exception as exc:  # noqa: BLE001  # protobuf raises several kinds
                raise InvalidArgument(f"{source} is not a readable ONNX model ({exc})") from None
            shutil.copyfile(source, target)
        else:
            onnx.save_model(model, str(target))
        return {"file": _FILE}

    def load(self, directory: Path, payload: Mapping[str, Any]) -> OnnxPredictor:
        onnxruntime = import_library(self.name, "onnxruntime", "onnxruntime")
        path = payload_file(directory, payload)
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return OnnxPredictor(session)


def _feeds(inputs: list[Any], data: Any) -> dict[str, Any]:
    import pandas as pd

    names = [item.name for item in inputs]
    if isinstance(data, Mapping):
        values = {name: data[name] for name in names if name in data}
    elif isinstance(data, pd.DataFrame) and len(inputs) > 1:
        values = {name: data[[name]].to_numpy() for name in names if name in data.columns}
    elif len(inputs) == 1:
        values = {names[0]: data.to_numpy() if isinstance(data, pd.DataFrame) else data}
    else:
        raise InvalidArgument(
            f"the ONNX model takes several inputs {names}: pass a dict of arrays or a "
            f"DataFrame with those columns, not a {type(data).__name__}"
        )
    missing = [name for name in names if name not in values]
    if missing:
        raise InvalidArgument(f"the ONNX model's input(s) {missing} are missing; it takes {names}")
    return {item.name: _typed(values[item.name], item.type) for item in inputs}


def _typed(value: Any, element_type: str) -> Any:
    import numpy as np

    array = np.asarray(value)
    wanted = _ELEMENT_TYPES.get(element_type)
    return array if wanted is None or array.dtype == wanted else array.astype(wanted)


FLAVOR = OnnxFlavor()
