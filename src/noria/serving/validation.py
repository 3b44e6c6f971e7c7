"""A request's :class:`Payload` checked against a model's signature, every problem collected.

>>> validate(signature, native_payload({"records": [{"age": "x"}]}), model="credit")
Traceback (most recent call last):
InputRejected: the request does not fit model 'credit' (2 problems): age: expected int64, got
string 'x' in row 0; city: expected string, got missing; ...

Tables: each signature column must be present (unless optional) with one value per row;
fields the signature does not name are ignored, as MLflow's server does. Tensors: each named
tensor must have the signature's shape (any number of rows) and a dtype that converts without
loss. A model with one unnamed tensor also takes named columns, stacked in the order given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument
from noria.models.casting import FLOAT_TYPES, cast_array, data_type_of
from noria.models.signature import ModelSignature, TableSchema, TensorSchema, TensorSpec
from noria.serving.columns import convert_column
from noria.serving.errors import InputRejected, Problem
from noria.serving.model_input import UNNAMED, ModelInput
from noria.serving.payloads import INVALID, MISSING, Payload, describe_value

if TYPE_CHECKING:
    import numpy as np


def validate(signature: ModelSignature | None, payload: Payload, *, model: str) -> ModelInput:
    """The payload as a :class:`ModelInput`, or InputRejected (422) listing every problem."""
    problems = list(payload.problems)
    result: ModelInput | None = None
    if payload.named is not None or payload.unnamed is not None:
        schema = None if signature is None else signature.inputs
        if isinstance(schema, TableSchema):
            result = _table(schema, payload, problems)
        elif isinstance(schema, TensorSchema):
            result = _tensors(schema, payload, problems)
        else:
            result = _unchecked(payload, problems)
    if problems or result is None:
        raise InputRejected(model, problems)
    return result


def _table(schema: TableSchema, payload: Payload, problems: list[Problem]) -> ModelInput | None:
    names = [column.name for column in schema.columns]
    if not problems and (fast := _float_table(schema, payload)) is not None:
        return fast
    if payload.named is None:
        problems.append(
            Problem(payload.source, f"rows keyed by column names {names}", "rows without names")
        )
        return None
    rows = _row_count(payload.named, problems)
    arrays: dict[str, np.ndarray] = {}
    for column in schema.columns:
        values = payload.named.get(column.name, MISSING)
        if values is INVALID:
            continue
        if values is MISSING:
            if column.optional:
                values = [None] * rows
            else:
                problems.append(Problem(column.name, column.type, "missing"))
                continue
        converted = convert_column(values, column.type, field=column.name, optional=column.optional)
        if isinstance(converted, Problem):
            problems.append(converted)
        elif len(converted) != rows:
            problems.append(_length_problem(column.name, rows, len(converted)))
        else:
            arrays[column.name] = converted
    return ModelInput("table", arrays, rows)


def _float_table(schema: TableSchema, payload: Payload) -> ModelInput | None:
    """The usual numeric model (every column a float) in one array operation instead of one
    per column; None whenever anything is unusual (a missing or null value, text, a list of
    another length), for :func:`_table` to check column by column and name the problem."""
    import numpy as np

    named = payload.named
    columns = schema.columns
    if not named or not all(column.type in FLOAT_TYPES for column in columns):
        return None
    try:
        block = np.array([named[column.name] for column in columns])
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    if block.ndim != 2 or block.dtype.kind not in "biuf" or not block.shape[1]:
        return None
    rows = block.shape[1]
    if any(not isinstance(values, list) or len(values) != rows for values in named.values()):
        return None  # another field sets the row count: let the careful path report it
    arrays = {column.name: block[i].astype(column.type) for i, column in enumerate(columns)}
    return ModelInput("table", arrays, rows)


def _tensors(schema: TensorSchema, payload: Payload, problems: list[Problem]) -> ModelInput | None:
    specs = schema.tensors
    if len(specs) == 1 and specs[0].name is None:
        value = _single_tensor_value(specs[0], payload, problems)
        array = None if value is None else _tensor(specs[0], value, "input", problems)
        return None if array is None else ModelInput("tensor", {UNNAMED: array}, len(array))
    if payload.named is None:
        names = [spec.name for spec in specs]
        problems.append(Problem(payload.source, f"named inputs {names}", "an unnamed array"))
        return None
    arrays: dict[str, np.ndarray] = {}
    for spec in specs:
        name = str(spec.name)
        value = payload.named.get(name, MISSING)
        if value is MISSING:
            problems.append(Problem(name, _tensor_expectation(spec), "missing"))
        elif value is not INVALID and (array := _tensor(spec, value, name, problems)) is not None:
            arrays[name] = array
    lengths = {len(array) for array in arrays.values()}
    if len(lengths) > 1:
        shown = {name: len(array) for name, array in arrays.items()}
        problems.append(
            Problem(payload.source, "the same number of rows in every input", str(shown))
        )
        return None
    return ModelInput("tensors", arrays, lengths.pop() if lengths else 0)


def _single_tensor_value(spec: TensorSpec, payload: Payload, problems: list[Problem]) -> Any:
    """The one array a single-tensor model takes: the unnamed rows, the only named input, or
    named columns stacked side by side (in the order the request gives them)."""
    import numpy as np

    if payload.named is None:
        return payload.unnamed
    named = payload.named
    if len(named) == 1:
        return next(iter(named.values()))
    width = spec.shape[1] if len(spec.shape) == 2 else None
    if width not in (-1, len(named)) or any(value is INVALID for value in named.values()):
        got = f"{len(named)} named inputs {sorted(named)[:10]}"
        problems.append(Problem(payload.source, _tensor_expectation(spec), got))
        return None
    rows = _row_count(named, problems)
    columns = []
    for name, values in named.items():
        array = _tensor_part(values, name, spec.dtype, problems)
        if array is not None and array.shape != (rows,):
            problems.append(_length_problem(name, rows, len(array)))
        elif array is not None:
            columns.append(array)
    return np.column_stack(columns) if len(columns) == len(named) else None


def _tensor(spec: TensorSpec, value: Any, field: str, problems: list[Problem]) -> np.ndarray | None:
    array = _tensor_part(value, field, spec.dtype, problems)
    if array is None:
        return None
    shape = spec.shape
    if array.ndim != len(shape) or any(
        want not in (-1, got) for want, got in zip(shape, array.shape, strict=True)
    ):
        problems.append(Problem(field, _tensor_expectation(spec), f"shape {list(array.shape)}"))
        return None
    try:
        return cast_array(array, spec.dtype, where=field)
    except InvalidArgument:
        problems.append(Problem(field, f"{spec.dtype} values", _kind_of(array)))
        return None


def _tensor_part(value: Any, field: str, dtype: str, problems: list[Problem]) -> np.ndarray | None:
    import numpy as np

    if isinstance(value, list):
        nulls = [row for row, item in enumerate(value) if item is MISSING or item is None]
        if nulls:
            got = f"null or missing in rows {nulls[:10]}"
            problems.append(Problem(field, f"{dtype} values in every row", got))
            return None
    try:
        array = value if isinstance(value, np.ndarray) else np.array(value)
    except (ValueError, OverflowError):
        problems.append(Problem(field, "a rectangular array", "rows of different lengths"))
        return None
    if array.ndim == 0:
        problems.append(Problem(field, "a list of rows", describe_value(value)))
        return None
    if array.dtype.kind == "O" and dtype != "string":
        problems.append(Problem(field, f"{dtype} values", "values of mixed types"))
        return None
    return array


def _unchecked(payload: Payload, problems: list[Problem]) -> ModelInput | None:
    """A model without a signature: columns or one array, only checked for shape."""
    import numpy as np

    if payload.named is None:
        try:
            array = np.array(payload.unnamed)
        except (ValueError, OverflowError):
            problems.append(Problem(payload.source, "a rectangular array", "ragged rows"))
            return None
        if array.ndim == 0:
            problems.append(Problem(payload.source, "a list of rows", describe_value(array)))
            return None
        return ModelInput("tensor", {UNNAMED: array}, len(array))
    rows = _row_count(payload.named, problems)
    arrays = {}
    for name, values in payload.named.items():
        if values is INVALID:
            continue
        try:
            array = np.asarray(values)
        except (ValueError, OverflowError):
            problems.append(Problem(name, "one value per row", "rows of different shapes"))
            continue
        if array.ndim == 0 or len(array) != rows:
            problems.append(_length_problem(name, rows, 0 if array.ndim == 0 else len(array)))
        else:
            arrays[name] = array
    return ModelInput("table", arrays, rows)


def _row_count(named: dict[str, Any], problems: list[Problem]) -> int:
    """The number of rows: the length of the first named value that has one."""
    for values in named.values():
        if hasattr(values, "__len__") and not isinstance(values, str | dict):
            if not len(values):
                problems.append(Problem("rows", "at least one row", "none"))
            return len(values)
    return 0


def _length_problem(field: str, rows: int, got: int) -> Problem:
    return Problem(field, f"{rows} values (one per row, like the first input)", f"{got} values")


def _tensor_expectation(spec: TensorSpec) -> str:
    shown = ", ".join("any" if size == -1 else str(size) for size in spec.shape)
    return f"{spec.dtype} array of shape [{shown}]"


def _kind_of(array: np.ndarray) -> str:
    try:
        return f"{data_type_of(array, where='input')} values"
    except InvalidArgument:
        return f"values of dtype {array.dtype}"
