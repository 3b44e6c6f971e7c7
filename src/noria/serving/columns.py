"""One request column checked against its signature type, and turned into an array.

The rules are those of ``noria.models.casting`` (a value is converted only when nothing is
lost), applied to JSON values: numbers for numeric columns (booleans count as 0 and 1, a whole
float fits an integer column), ``true``/``false`` for booleans, text for strings, text or
integers for categories, ISO 8601 text for datetimes and base64 text for binary columns.
A value that does not fit becomes a :class:`~noria.serving.errors.Problem` naming the first
offending row, never an exception.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from noria.models.casting import FLOAT_TYPES, NUMERIC_TYPES
from noria.serving.errors import Problem
from noria.serving.payloads import MISSING, describe_value

if TYPE_CHECKING:
    import numpy as np

_NUMBER_KINDS = "biuf"
_CATEGORY_VALUES = (str, int)  # bool is an int
# Signature types whose JSON values are taken as they are, once their Python type is checked.
_TYPED: dict[str, tuple[tuple[type, ...], str]] = {
    "bool": ((bool,), "bool"),
    "string": ((str,), "string"),
    "category": (_CATEGORY_VALUES, "category (text or integers)"),
}


def convert_column(
    values: Any, expected: str, *, field: str, optional: bool
) -> np.ndarray | Problem:
    """``values`` (a list or a 1-D array) as an array of ``expected``, or the problem."""
    import numpy as np

    if isinstance(values, np.ndarray):
        if values.ndim == 2 and values.shape[1] == 1:  # an [n, 1] tensor is a column too
            values = values[:, 0]
        if values.ndim != 1:
            return Problem(field, f"one {expected} value per row", f"shape {list(values.shape)}")
        if values.dtype.kind != "O":
            return _convert_present(values, expected, field)
        values = values.tolist()
    if not isinstance(values, list):
        return Problem(field, f"a list of {expected} values", describe_value(values))
    absent = [row for row, value in enumerate(values) if value is None or value is MISSING]
    if not absent:
        return _convert_present(values, expected, field)
    if not optional:
        missing = [row for row in absent if values[row] is MISSING]
        what = "missing" if len(missing) == len(absent) else "null"
        return Problem(field, f"{expected} values in every row", f"{what} in rows {absent[:10]}")
    return _convert_with_nulls(values, set(absent), expected, field)


def _convert_with_nulls(
    values: list[Any], nulls: set[int], expected: str, field: str
) -> np.ndarray | Problem:
    present = [row for row in range(len(values)) if row not in nulls]
    converted = _convert_present([values[row] for row in present], expected, field, rows=present)
    if isinstance(converted, Problem):
        return converted
    return _with_nulls(converted, present, len(values), expected)


def _convert_present(
    values: Any, expected: str, field: str, rows: list[int] | None = None
) -> np.ndarray | Problem:
    """Values with no nulls; ``rows`` maps their positions back to request rows."""
    if expected in NUMERIC_TYPES:
        return _numbers(values, expected, field, rows)
    if expected in _TYPED:
        kinds, description = _TYPED[expected]
        return _typed(values, kinds, description, field, rows)
    if expected == "binary":
        return _binary(values, field, rows)
    if expected == "datetime":
        return _datetimes(values, field, rows)
    return Problem(field, expected, "a type this server cannot read from JSON")


def _numbers(
    values: Any, expected: str, field: str, rows: list[int] | None
) -> np.ndarray | Problem:
    import numpy as np

    array = values if isinstance(values, np.ndarray) else _number_array(values)
    if array is None or array.dtype.kind not in _NUMBER_KINDS or array.ndim != 1:
        return _first_offender(values, _is_number, expected, field, rows)
    if expected in FLOAT_TYPES or array.dtype.kind == "b":
        return array.astype(expected)
    if array.dtype.kind == "f":
        fractional = np.flatnonzero(array != np.trunc(array))
        if fractional.size:
            row = _row(int(fractional[0]), rows)
            shown = describe_value(array[fractional[0]].item())
            return Problem(field, f"{expected} (whole numbers)", f"{shown} in row {row}")
    limits = np.iinfo(expected)
    outside = np.flatnonzero((array < limits.min) | (array > limits.max))
    if outside.size:
        row = _row(int(outside[0]), rows)
        shown = describe_value(array[outside[0]].item())
        return Problem(field, f"{expected} ({limits.min} to {limits.max})", f"{shown} in row {row}")
    return array.astype(expected)


def _number_array(values: list[Any]) -> np.ndarray | None:
    import numpy as np

    try:
        return np.array(values)
    except (ValueError, OverflowError):  # ragged nesting, integers beyond 64 bits
        return None


def _typed(
    values: Any, kinds: tuple[type, ...], expected: str, field: str, rows: list[int] | None
) -> np.ndarray | Problem:
    import numpy as np

    items = values.tolist() if isinstance(values, np.ndarray) else values
    if str in kinds:  # V2 BYTES tensors may carry text as bytes
        items = [item.decode() if isinstance(item, bytes) else item for item in items]
    for position, item in enumerate(items):
        if not isinstance(item, kinds) or (kinds == _CATEGORY_VALUES and _is_float(item)):
            return Problem(field, expected, f"{describe_value(item)} in row {_row(position, rows)}")
    if kinds == (bool,):
        return np.array(items, dtype=bool)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _binary(values: Any, field: str, rows: list[int] | None) -> np.ndarray | Problem:
    import numpy as np

    decoded: list[bytes] = []
    items = values.tolist() if isinstance(values, np.ndarray) else values
    for position, item in enumerate(items):
        if isinstance(item, bytes):
            decoded.append(item)
            continue
        try:
            decoded.append(base64.b64decode(item, validate=True))
        except (binascii.Error, TypeError, ValueError):
            got = f"{describe_value(item)} in row {_row(position, rows)}"
            return Problem(field, "binary (base64 text)", got)
    array = np.empty(len(decoded), dtype=object)
    array[:] = decoded
    return array


def _datetimes(values: Any, field: str, rows: list[int] | None) -> np.ndarray | Problem:
    import pandas as pd

    items = values.tolist() if hasattr(values, "tolist") else values
    stamps = []
    for position, item in enumerate(items):
        stamp = _timestamp(item)
        if stamp is None:
            got = f"{describe_value(item)} in row {_row(position, rows)}"
            return Problem(field, "datetime (ISO 8601 text)", got)
        stamps.append(stamp)
    array: np.ndarray = pd.DatetimeIndex(stamps).as_unit("ns").to_numpy()
    return array


def _timestamp(item: Any) -> Any:
    """A naive UTC ``pandas.Timestamp`` from ISO 8601 text, or None."""
    import pandas as pd

    if not isinstance(item, str):
        return None
    try:
        stamp = pd.Timestamp(item)
    except ValueError:  # includes pandas' OutOfBoundsDatetime
        return None
    if stamp is pd.NaT:
        return None
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def _with_nulls(present: np.ndarray, rows: list[int], length: int, expected: str) -> np.ndarray:
    """A full column: ``present`` at ``rows``, nulls elsewhere (NaN for numbers)."""
    import numpy as np

    if expected in NUMERIC_TYPES:
        # Integers with nulls stay floats with NaN, as signature enforcement keeps them.
        dtype = expected if expected in FLOAT_TYPES else "float64"
        full = np.full(length, np.nan, dtype=dtype)
    elif expected == "datetime":
        full = np.full(length, np.datetime64("NaT"), dtype="datetime64[ns]")
    else:
        full = np.full(length, None, dtype=object)
    full[rows] = present
    return full


def _first_offender(
    values: Any, fits: Callable[[Any], bool], expected: str, field: str, rows: list[int] | None
) -> Problem:
    items = values.tolist() if hasattr(values, "tolist") else values
    for position, item in enumerate(items):
        if not fits(item):
            return Problem(field, expected, f"{describe_value(item)} in row {_row(position, rows)}")
    return Problem(field, expected, "integers too large for 64 bits")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)


def _is_float(value: Any) -> bool:
    return isinstance(value, float)


def _row(position: int, rows: list[int] | None) -> int:
    return position if rows is None else rows[position]
