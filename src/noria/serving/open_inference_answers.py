"""Open Inference Protocol answers: output tensors, and model metadata from the signature."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noria.models.signature import ModelSignature, TableSchema, TensorSchema
from noria.serving.errors import Problem
from noria.serving.model_input import UNNAMED_ROW_KEY
from noria.serving.open_inference import V2_TO_NUMPY
from noria.serving.predictions import PREDICTIONS, Predictions

if TYPE_CHECKING:
    import numpy as np

_SIGNATURE_TO_V2 = {numpy: v2 for v2, numpy in V2_TO_NUMPY.items() if v2 != "BYTES"}


def output_names(signature: ModelSignature | None) -> tuple[str, ...]:
    """The output tensors a model answers with, as far as its signature tells."""
    outputs = None if signature is None else signature.outputs
    if isinstance(outputs, TableSchema):
        return tuple(column.name for column in outputs.columns)
    if isinstance(outputs, TensorSchema) and not (
        len(outputs.tensors) == 1 and outputs.tensors[0].name is None
    ):
        return tuple(str(spec.name) for spec in outputs.tensors)
    return (PREDICTIONS,)


def check_requested_outputs(
    requested: tuple[str, ...], signature: ModelSignature | None, problems: list[Problem]
) -> None:
    known = output_names(signature)
    for index, name in enumerate(requested):
        if name not in known:
            problems.append(Problem(f"outputs[{index}]", f"one of {list(known)}", repr(name)))


def output_tensors(predictions: Predictions, requested: tuple[str, ...]) -> list[dict[str, Any]]:
    """The answer's tensors: every output, or those requested that the model produced."""
    tensors = []
    for name, array in predictions.arrays.items():
        if requested and name not in requested:
            continue
        tensors.append(
            {
                "name": name,
                "datatype": v2_datatype(array.dtype),
                "shape": list(array.shape),
                "data": _flat_values(array),
            }
        )
    return tensors


def v2_datatype(dtype: np.dtype[Any] | str) -> str:
    import numpy as np

    found = np.dtype(dtype)
    return _SIGNATURE_TO_V2.get(found.name, "BYTES")


def _flat_values(array: np.ndarray) -> list[Any]:
    flat = array.reshape(-1)
    if flat.dtype.kind == "M":
        return [str(value) for value in flat.astype("datetime64[us]")]
    if flat.dtype.kind in "OSU":
        return [
            value.decode(errors="replace") if isinstance(value, bytes) else value
            for value in flat.tolist()
        ]
    return list(flat.tolist())


def model_metadata(
    name: str, version: int | None, flavor: str, signature: ModelSignature | None
) -> dict[str, Any]:
    """``GET /v2/models/{name}``: inputs and outputs as V2 tensor descriptions."""
    return {
        "name": name,
        "versions": [] if version is None else [str(version)],
        "platform": f"noria-{flavor}",
        "inputs": [] if signature is None else _tensor_metadata(signature.inputs, UNNAMED_ROW_KEY),
        "outputs": [
            {"name": name, **item}
            for name, item in zip(
                output_names(signature), _output_metadata(signature), strict=False
            )
        ],
    }


def _output_metadata(signature: ModelSignature | None) -> list[dict[str, Any]]:
    if signature is None or signature.outputs is None:
        return [{"datatype": "BYTES", "shape": [-1]}]  # unknown until the model answers
    return [
        {"datatype": item["datatype"], "shape": item["shape"]}
        for item in _tensor_metadata(signature.outputs, PREDICTIONS)
    ]


def _tensor_metadata(schema: TableSchema | TensorSchema, unnamed: str) -> list[dict[str, Any]]:
    if isinstance(schema, TableSchema):
        return [
            {
                "name": column.name,
                "datatype": _SIGNATURE_TO_V2.get(column.type, "BYTES"),
                "shape": [-1],
            }
            for column in schema.columns
        ]
    return [
        {
            "name": unnamed if spec.name is None else spec.name,
            "datatype": _SIGNATURE_TO_V2.get(spec.dtype, "BYTES"),
            "shape": list(spec.shape),
        }
        for spec in schema.tensors
    ]
