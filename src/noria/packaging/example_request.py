"""A model's input example as the JSON a server takes, and a prediction as the JSON it answers.

The request is Noria's native ``{"columns": {...}}``: a DataFrame's columns by name (times as
ISO 8601 text, bytes as base64, missing values as null), an array as the one input
``input``, a dict of arrays by name. The answer holds one prediction per row: a value (or a
list, for a 2-D output) per row, or ``{output: value}`` per row for a model with named outputs;
:func:`as_answer_rows` turns the in-process prediction (as :mod:`noria.packaging.probe`
writes it) into that form, so the two can be compared value by value.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

UNNAMED_INPUT = "input"


def example_body(example: Any) -> dict[str, Any]:
    """``{"columns": {...}}`` holding ``example`` (a DataFrame, an ndarray or a dict)."""
    import numpy as np
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        columns = {str(name): _column(example[name]) for name in example.columns}
    elif isinstance(example, Mapping):
        columns = {str(name): np.asarray(value).tolist() for name, value in example.items()}
    else:
        columns = {UNNAMED_INPUT: np.asarray(example).tolist()}
    return {"columns": _without_nan(columns)}


def as_answer_rows(predicted: Any) -> Any:
    """The probe's JSON of ``predict``'s output, row by row as the server answers it."""
    if isinstance(predicted, dict) and set(predicted) == {"columns", "data"}:  # a DataFrame
        rows = [dict(zip(predicted["columns"], row, strict=True)) for row in predicted["data"]]
        return _without_nan(rows)
    if isinstance(predicted, dict):  # named outputs, each one value per row
        names, columns = list(predicted), list(predicted.values())
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        return _without_nan(rows)
    return _without_nan(predicted)


def _column(series: Any) -> list[Any]:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(value) else value.isoformat() for value in series]
    values = series.astype(object).tolist()
    return [_plain(value) for value in values]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "item"):  # a NumPy scalar
        return value.item()
    return value


def _without_nan(value: Any) -> Any:
    """NaN as null: JSON has no NaN, and the server answers a missing number as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    return value
