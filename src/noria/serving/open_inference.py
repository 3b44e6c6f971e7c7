"""The Open Inference Protocol (KServe V2): inference requests in, tensors out, model metadata.

A request names its input tensors; for a table model each input is one signature column
(shape ``[rows]`` or ``[rows, 1]``), for a tensor model each is one signature tensor. Tensor
data may be JSON (flat in row-major order, or nested) or, as Triton's client sends by default,
binary: the JSON header's length in the ``Inference-Header-Content-Length`` header, then each
input's bytes in order (``parameters.binary_data_size``). Answers are always JSON tensors,
which every V2 client reads whatever output format it asked for
(:mod:`noria.serving.open_inference_answers`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument
from noria.models.casting import cast_array
from noria.serving.errors import Problem
from noria.serving.payloads import INVALID, Payload, describe_value, parse_json

if TYPE_CHECKING:
    import numpy as np

# V2 datatype -> NumPy dtype; BYTES holds text (or bytes) as Python objects.
V2_TO_NUMPY = {
    "BOOL": "bool",
    **{f"INT{bits}": f"int{bits}" for bits in (8, 16, 32, 64)},
    **{f"UINT{bits}": f"uint{bits}" for bits in (8, 16, 32, 64)},
    **{f"FP{bits}": f"float{bits}" for bits in (16, 32, 64)},
    "BYTES": "object",
}


@dataclass(frozen=True, slots=True)
class InferRequest:
    payload: Payload
    id: str | None  # echoed back in the answer
    outputs: tuple[str, ...]  # requested output names; empty for all


def parse_infer_request(body: bytes, header_length: str | None) -> InferRequest:
    """An inference request (JSON, or JSON header + binary tensors), problems collected."""
    split = _header_length(header_length, len(body))
    document = parse_json(body[:split])
    payload = Payload(named={}, source="inputs")
    if not isinstance(document, Mapping):
        payload.problems.append(Problem("body", "a JSON object", describe_value(document)))
        return InferRequest(payload, None, ())
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        payload.problems.append(
            Problem("inputs", "a non-empty list of tensors", describe_value(inputs))
        )
        return InferRequest(payload, None, ())
    binary = memoryview(body)[split:]
    for index, item in enumerate(inputs):
        name, value, used = _input_tensor(item, index, binary, payload.problems)
        binary = binary[used:]
        if name is not None and payload.named is not None:
            payload.named[name] = value
    request_id = document.get("id")
    outputs = _requested_outputs(document.get("outputs"), payload.problems)
    return InferRequest(payload, request_id if isinstance(request_id, str) else None, outputs)


def _header_length(value: str | None, size: int) -> int:
    if value is None:
        return size
    if not value.isdigit() or int(value) > size:
        raise InvalidArgument(
            f"Inference-Header-Content-Length is {value!r}; it must be the byte length of the "
            f"JSON header, at most the body's {size} bytes"
        )
    return int(value)


def _input_tensor(
    item: Any, index: int, binary: memoryview, problems: list[Problem]
) -> tuple[str | None, Any, int]:
    """(name, array or INVALID, binary bytes used) of one request input."""
    where = f"inputs[{index}]"
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
        problems.append(
            Problem(where, "an object with name, shape, datatype, data", describe_value(item))
        )
        return None, INVALID, 0
    name, datatype, shape = item["name"], item.get("datatype"), item.get("shape")
    if datatype not in V2_TO_NUMPY:
        problems.append(
            Problem(name, f"a datatype among {sorted(V2_TO_NUMPY)}", describe_value(datatype))
        )
        return name, INVALID, 0
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        problems.append(Problem(name, "a shape: a list of sizes", describe_value(shape)))
        return name, INVALID, 0
    size = (item.get("parameters") or {}).get("binary_data_size")
    if isinstance(size, int):
        if size > len(binary):
            got = f"{size} bytes announced, {len(binary)} left in the body"
            problems.append(Problem(name, "binary data of binary_data_size bytes", got))
            return name, INVALID, len(binary)
        array = _from_binary(bytes(binary[:size]), datatype, name, problems)
        return name, _shaped(array, shape, name, problems), size
    array = _from_json(item.get("data"), datatype, name, problems)
    return name, _shaped(array, shape, name, problems), 0


def _from_json(data: Any, datatype: str, name: str, problems: list[Problem]) -> np.ndarray | None:
    import numpy as np

    if not isinstance(data, list):
        problems.append(Problem(name, f"data: a list of {datatype} values", describe_value(data)))
        return None
    try:
        if datatype == "BYTES":
            return np.array(data, dtype=object)
        array = np.array(data)
    except (ValueError, OverflowError):
        problems.append(Problem(name, f"{datatype} values", "rows of different lengths"))
        return None
    if array.size and (
        array.dtype.kind not in "biuf" or (datatype == "BOOL") != (array.dtype.kind == "b")
    ):
        first = array.reshape(-1)[0].item()
        problems.append(Problem(name, f"{datatype} values", describe_value(first)))
        return None
    try:
        return cast_array(array, V2_TO_NUMPY[datatype], where=name) if array.size else array
    except InvalidArgument:
        problems.append(
            Problem(name, f"{datatype} values", "values that do not fit it without loss")
        )
        return None


def _from_binary(
    raw: bytes, datatype: str, name: str, problems: list[Problem]
) -> np.ndarray | None:
    import numpy as np

    if datatype != "BYTES":
        dtype = np.dtype(V2_TO_NUMPY[datatype]).newbyteorder("<")
        if len(raw) % dtype.itemsize:
            problems.append(
                Problem(name, f"a multiple of {dtype.itemsize} bytes", f"{len(raw)} bytes")
            )
            return None
        return np.frombuffer(raw, dtype=dtype)
    items: list[Any] = []
    offset = 0
    while offset < len(raw):
        length = struct.unpack_from("<I", raw, offset)[0] if offset + 4 <= len(raw) else None
        if length is None or offset + 4 + length > len(raw):
            got = f"an element cut short at byte {offset}"
            problems.append(Problem(name, "BYTES elements, each a 4-byte length then data", got))
            return None
        element = raw[offset + 4 : offset + 4 + length]
        try:
            items.append(element.decode())
        except UnicodeDecodeError:
            items.append(element)
        offset += 4 + length
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _shaped(array: np.ndarray | None, shape: list[int], name: str, problems: list[Problem]) -> Any:
    if array is None:
        return INVALID
    if array.size != math.prod(shape):
        got = f"{array.size} values"
        problems.append(Problem(name, f"{math.prod(shape)} values for shape {shape}", got))
        return INVALID
    return array.reshape(shape)


def _requested_outputs(outputs: Any, problems: list[Problem]) -> tuple[str, ...]:
    if outputs is None:
        return ()
    if not isinstance(outputs, list) or not all(
        isinstance(item, Mapping) and isinstance(item.get("name"), str) for item in outputs
    ):
        problems.append(
            Problem("outputs", "a list of {name: ...} objects", describe_value(outputs))
        )
        return ()
    return tuple(item["name"] for item in outputs)
