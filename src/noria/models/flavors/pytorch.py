"""PyTorch modules, saved with ``torch.export`` as a ``.pt2`` program.

Why export: the program holds the graph and the weights, so it loads without the module's
Python class, whereas a ``state_dict`` needs the class importable with the same constructor
arguments. TorchScript, the older way to get the same, is deprecated in torch 2.x. Export
traces the module, so it needs an example input (``input_example``); the batch dimension is
left dynamic. The module is exported in eval mode (dropout off, batch-norm statistics frozen)
and runs on the CPU.
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
    qualified_name,
)

_FILE = "model.pt2"


class PyTorchPredictor:
    def __init__(self, module: Any, float_dtype: str | None) -> None:
        self._module = module
        self._float_dtype = float_dtype  # the dtype the weights use; float inputs are cast to it

    @property
    def raw(self) -> Any:
        return self._module

    def predict(self, data: Any) -> Any:
        import torch

        with torch.inference_mode():
            if isinstance(data, Mapping):
                output = self._module(**{name: self._tensor(v) for name, v in data.items()})
            else:
                output = self._module(self._tensor(data))
        return _to_numpy(output)

    def predict_proba(self, data: Any) -> Any:
        why = "apply softmax to what predict returns if the module outputs logits"
        raise no_probabilities("pytorch", self._module, why)

    def _tensor(self, value: Any) -> Any:
        return _as_tensor(value, self._float_dtype)


class PyTorchFlavor:
    name = "pytorch"

    def handles(self, model: Any) -> bool:
        torch = loaded_module("torch")
        return torch is not None and isinstance(model, torch.nn.Module)

    def required_modules(self, model: Any) -> list[str]:
        return ["torch"]

    def save(self, model: Any, context: SaveContext) -> dict[str, Any]:
        import torch

        if context.input_example is None:
            raise InvalidArgument(
                "the pytorch flavor saves a module with torch.export, which traces it on an "
                "example: pass input_example=a small batch of inputs (an array or tensor)"
            )
        float_dtype = _float_dtype(model)
        program = _export(model, context.input_example, float_dtype)
        torch.export.save(program, str(context.directory / _FILE))
        return {
            "file": _FILE,
            "format": "torch.export",
            "class": qualified_name(type(model)),
            "float_dtype": float_dtype,
        }

    def load(self, directory: Path, payload: Mapping[str, Any]) -> PyTorchPredictor:
        torch = import_library(self.name, "torch", "torch")
        program = torch.export.load(str(payload_file(directory, payload)))
        float_dtype = payload.get("float_dtype")
        if float_dtype is not None and not isinstance(
            getattr(torch, str(float_dtype), None), torch.dtype
        ):
            raise InvalidArgument(
                f"the model manifest in {directory}, field 'payload.float_dtype': "
                f"{float_dtype!r} is not a torch dtype (such as 'float32')"
            )
        return PyTorchPredictor(program.module(), float_dtype)


def _export(model: Any, example: Any, float_dtype: str | None) -> Any:
    import torch

    batch = torch.export.Dim("batch")
    was_training = model.training
    model.eval()
    try:
        if isinstance(example, Mapping):
            kwargs = {name: _export_tensor(value, float_dtype) for name, value in example.items()}
            shapes = {name: {0: batch} for name in kwargs}
            return torch.export.export(model, (), kwargs=kwargs, dynamic_shapes=shapes)
        args = (_export_tensor(example, float_dtype),)
        return torch.export.export(model, args, dynamic_shapes=({0: batch},))
    except Exception as exc:  # export fails in many ways; each is the user's to fix
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidArgument(
            f"torch.export could not trace {qualified_name(type(model))} on the input example "
            f"({first_line}); make forward() free of data-dependent Python control flow, or "
            "wrap the model in a noria.models.flavors.python.PythonModel"
        ) from exc
    finally:
        model.train(was_training)


def _float_dtype(model: Any) -> str | None:
    for parameter in model.parameters():
        if parameter.is_floating_point():
            return str(parameter.dtype).removeprefix("torch.")
    return None


def _export_tensor(value: Any, float_dtype: str | None) -> Any:
    # Export treats a dimension of size 1 as a constant, so a one-row example would fix the
    # batch size at 1: trace on the row twice instead.
    tensor = _as_tensor(value, float_dtype)
    return tensor.repeat(2, *([1] * (tensor.dim() - 1))) if tensor.shape[0] == 1 else tensor


def _as_tensor(value: Any, float_dtype: str | None) -> Any:
    import numpy as np
    import torch

    tensor = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
    if float_dtype is not None and tensor.is_floating_point():
        tensor = tensor.to(getattr(torch, float_dtype))
    return tensor


def _to_numpy(output: Any) -> Any:
    import torch

    if isinstance(output, torch.Tensor):
        return output.detach().cpu().numpy()
    if isinstance(output, Mapping):
        return {name: _to_numpy(value) for name, value in output.items()}
    if isinstance(output, list | tuple):
        return type(output)(_to_numpy(value) for value in output)
    return output


FLAVOR = PyTorchFlavor()
