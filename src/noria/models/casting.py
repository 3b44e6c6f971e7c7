"""The data types of a model signature, and the only casts made to reach them.

A value is converted to the signature's type only when nothing is lost: ``bool`` to a number,
an integer to a float, a float to a wider or narrower float (what a float32 network does
anyway), an integer to another integer it fits in, and a float to an integer when every value
is whole. Anything else, such as text where a number is expected, is refused with the column
and an offending value, so that a wrong request fails loudly instead of predicting garbage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DataType = Literal[
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "string",
    "binary",
    "datetime",
    "category",
]
DATA_TYPES: tuple[str, ...] = get_args(DataType)
INTEGER_TYPES = frozenset(name for name in DATA_TYPES if "int" in name)
FLOAT_TYPES = frozenset({"float16", "float32", "float64"})
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES

# What pandas' infer_dtype says about an object column, as a signature type.
_OBJECT_KINDS: dict[str, DataType] = {
    "string": "string",
    "empty": "string",
    "bytes": "binary",
    "boolean": "bool",
    "integer": "int64",
    "floating": "float64",
    "mixed-integer-float": "float64",
    "datetime": "datetime",
    "datetime64": "datetime",
}


def materialize(series: pd.Series) -> pd.Series:
    """The series with a plain NumPy dtype where one fits: object columns of numbers and
    pandas' nullable numbers become int64, or float64 with NaN when they hold nulls."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and hasattr(dtype, "numpy_dtype"):
        if series.isna().any():
            values = series.to_numpy(dtype="float64", na_value=np.nan)
        else:
            values = series.to_numpy(dtype=dtype.numpy_dtype)
        return pd.Series(values, index=series.index, name=series.name)
    if not pd.api.types.is_object_dtype(dtype):
        return series
    kind = _OBJECT_KINDS.get(pd.api.types.infer_dtype(series, skipna=True))
    if kind in NUMERIC_TYPES or (kind == "bool" and not series.isna().any()):
        target = "float64" if series.isna().any() else kind
        return series.astype(target)
    return series


def data_type_of(values: pd.Series | np.ndarray, *, where: str) -> DataType:
    """The signature type of a column or array (object values are inspected)."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    found: str | None = None
    if isinstance(dtype, pd.CategoricalDtype):
        found = "category"
    elif pd.api.types.is_object_dtype(dtype):
        return _object_type(values.ravel() if isinstance(values, np.ndarray) else values, where)
    elif pd.api.types.is_bool_dtype(dtype):
        found = "bool"
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        found = "datetime"
    elif pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        found = np.dtype(getattr(dtype, "numpy_dtype", dtype)).name
    elif getattr(dtype, "kind", "") == "S":
        found = "binary"
    elif pd.api.types.is_string_dtype(dtype):
        found = "string"
    if found not in DATA_TYPES:
        raise InvalidArgument(
            f"{where} has dtype {dtype}, which a model signature cannot describe; "
            f"convert it to one of {', '.join(DATA_TYPES)}"
        )
    return found  # type: ignore[return-value]  # checked against the Literal's values above


def _object_type(values: pd.Series | np.ndarray, where: str) -> DataType:
    import pandas as pd

    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred not in _OBJECT_KINDS:
        raise InvalidArgument(
            f"{where} holds values of mixed or unsupported types ({inferred}); "
            "give it one type (numbers, text, booleans, bytes or datetimes)"
        )
    return _OBJECT_KINDS[inferred]


def cast_column(series: pd.Series, expected: str, *, where: str, optional: bool) -> pd.Series:
    """The column converted to ``expected`` by a safe cast, or InvalidArgument naming it."""
    import pandas as pd

    series = materialize(series)
    actual = data_type_of(series, where=where)
    if actual == expected:
        return series
    if expected == "category" and (actual in ("string", "bool") or actual in INTEGER_TYPES):
        return series.astype("category")
    if expected == "string" and actual == "category":
        return series  # a categorical of labels is still the labels
    if expected in NUMERIC_TYPES and (actual in NUMERIC_TYPES or actual == "bool"):
        values = cast_numbers(series.to_numpy(), actual, expected, where=where, optional=optional)
        return pd.Series(values, index=series.index, name=series.name)
    raise _refused(where, expected, actual, series.dropna().to_numpy())


def cast_array(array: np.ndarray, expected: str, *, where: str) -> np.ndarray:
    """The array converted to ``expected`` by a safe cast, or InvalidArgument naming it."""
    actual = data_type_of(array, where=where)
    if actual == expected:
        return array
    if expected in NUMERIC_TYPES and (actual in NUMERIC_TYPES or actual == "bool"):
        if array.dtype == object:
            array = array.astype("float64" if actual in FLOAT_TYPES else actual)
        return cast_numbers(array, actual, expected, where=where, optional=False)
    if expected == "string" and actual == "string":
        return array
    raise _refused(where, expected, actual, array.ravel())


def cast_numbers(
    values: np.ndarray, actual: str, expected: str, *, where: str, optional: bool
) -> np.ndarray:
    """Numbers (or booleans) to another numeric type, refusing any cast that loses values."""
    import numpy as np

    if actual == "bool" or expected in FLOAT_TYPES:
        return values.astype(expected)  # bool→number, int→float and float→float lose nothing
    if actual in FLOAT_TYPES:
        nulls = np.isnan(values)
        if nulls.any():
            if optional:
                return values  # an optional integer column keeps NaN for its missing values
            raise InvalidArgument(
                f"{where} expects {expected} values but holds missing values (NaN); "
                "fill them, or mark the column optional in the signature"
            )
        fractional = values[values != np.trunc(values)]
        if fractional.size:
            raise InvalidArgument(
                f"{where} expects {expected} values but holds {_plain(fractional[0])!r}, "
                "which is not a whole number; round the values before predicting"
            )
    limits = np.iinfo(expected)
    outside = values[(values < limits.min) | (values > limits.max)]
    if outside.size:
        raise InvalidArgument(
            f"{where} expects {expected} values but holds {_plain(outside[0])!r}, "
            f"which does not fit in {expected} ({limits.min} to {limits.max})"
        )
    return values.astype(expected)


def _refused(where: str, expected: str, actual: str, values: np.ndarray) -> InvalidArgument:
    sample = f" (e.g. {_plain(values[0])!r})" if len(values) else ""
    return InvalidArgument(
        f"{where} expects {expected} values but holds {actual}{sample}; Noria only makes casts "
        "that lose nothing, so convert the values before predicting"
    )


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds, so that messages read ``2.5``, not
    ``np.float64(2.5)``."""
    return value.item() if hasattr(value, "item") else value
