"""Model signatures: what a model takes and returns, inferred from an example, enforced at predict.

Inputs are either a table (named, typed columns, some optional) or tensors (a dtype and a shape
whose first dimension, the batch, is -1), unnamed or named as in a dict of arrays.

>>> signature = infer_signature(pandas.DataFrame({"age": [31, 45], "city": ["Oslo", "Rome"]}))
>>> [(column.name, column.type) for column in signature.inputs.columns]
[('age', 'int64'), ('city', 'string')]

:func:`enforce_schema` makes a request fit the signature before the model sees it: a missing
column is an error naming it, extra columns are dropped with a :class:`SignatureWarning`, columns
are put in the signature's order, and values are cast only where nothing is lost
(``noria.models.casting``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from noria.errors import InvalidArgument
from noria.models.casting import (
    FLOAT_TYPES,
    NUMERIC_TYPES,
    DataType,
    cast_array,
    cast_column,
    data_type_of,
    materialize,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class SignatureWarning(UserWarning):
    """A request was changed to fit the model's signature (columns it does not use dropped)."""


class _Record(BaseModel):
    # Manifests outlive the code that wrote them: ignore fields a newer Noria added.
    model_config = ConfigDict(frozen=True, extra="ignore")


class ColumnSpec(_Record):
    """One input column. ``optional`` columns may hold nulls or be left out of a request (they
    are then filled with nulls)."""

    name: str
    type: DataType
    optional: bool = False


class TensorSpec(_Record):
    """One tensor: its dtype and shape, -1 where any size goes (the batch dimension)."""

    name: str | None = None
    dtype: DataType
    shape: tuple[int, ...]


class TableSchema(_Record):
    kind: Literal["table"] = "table"
    columns: tuple[ColumnSpec, ...]


class TensorSchema(_Record):
    """One unnamed tensor, or named tensors (a dict of arrays)."""

    kind: Literal["tensor"] = "tensor"
    tensors: tuple[TensorSpec, ...]


DataSchema = Annotated[TableSchema | TensorSchema, Field(discriminator="kind")]


class ModelSignature(_Record):
    inputs: DataSchema
    outputs: DataSchema | None = None


def infer_signature(
    inputs: Any, outputs: Any = None, *, optional: Iterable[str] = ()
) -> ModelSignature:
    """The signature of a model taking ``inputs`` (and returning ``outputs``, when given).

    ``optional`` names columns a request may leave out, beyond those the example has nulls in.
    """
    schema = infer_schema(inputs)
    optional = set(optional)
    if optional:
        if not isinstance(schema, TableSchema):
            raise InvalidArgument("optional columns need a table (DataFrame) input example")
        unknown = sorted(optional - {column.name for column in schema.columns})
        if unknown:
            raise InvalidArgument(f"optional names columns the example lacks: {unknown}")
        schema = TableSchema(
            columns=tuple(
                column.model_copy(update={"optional": column.optional or column.name in optional})
                for column in schema.columns
            )
        )
    return ModelSignature(inputs=schema, outputs=None if outputs is None else infer_schema(outputs))


def infer_schema(data: Any) -> TableSchema | TensorSchema:
    """The schema of a DataFrame (columns) or of an array, tensor or dict of arrays (tensors)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return TableSchema(columns=tuple(_column_spec(name, data[name]) for name in _names(data)))
    if isinstance(data, Mapping):
        return TensorSchema(
            tensors=tuple(
                _tensor_spec(as_array(value, where=f"input {name!r}"), str(name))
                for name, value in data.items()
            )
        )
    return TensorSchema(tensors=(_tensor_spec(as_array(data, where="the input"), None),))


def enforce_schema(schema: TableSchema | TensorSchema, data: Any) -> Any:
    """``data`` made to fit ``schema``, or InvalidArgument saying what does not fit."""
    if isinstance(schema, TableSchema):
        return _enforce_table(schema, _as_frame(data, schema))
    if len(schema.tensors) == 1 and schema.tensors[0].name is None:
        return _enforce_tensor(schema.tensors[0], as_array(data, where="the input"), "the input")
    if not isinstance(data, Mapping):
        names = [spec.name for spec in schema.tensors]
        raise InvalidArgument(
            f"the model expects a dict of arrays named {names}; got {type(data).__name__}"
        )
    missing = [spec.name for spec in schema.tensors if spec.name not in data]
    if missing:
        raise InvalidArgument(
            f"missing input(s) {missing}; the model expects {_tensor_names(schema)}"
        )
    extra = [name for name in data if name not in _tensor_names(schema)]
    if extra:
        warnings.warn(
            f"dropping inputs the model does not use: {extra}", SignatureWarning, stacklevel=3
        )
    return {
        spec.name: _enforce_tensor(
            spec, as_array(data[spec.name], where=f"input {spec.name!r}"), f"input {spec.name!r}"
        )
        for spec in schema.tensors
    }


def as_array(value: Any, *, where: str) -> np.ndarray:
    """An ndarray from an array, a PyTorch tensor, a DataFrame, a Series or nested lists."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor, without torch
        return np.asarray(value.detach().cpu().numpy())
    if isinstance(value, pd.DataFrame | pd.Series):
        return np.asarray(value.to_numpy())
    if isinstance(value, list | tuple):
        try:
            return np.asarray(value)
        except ValueError as exc:  # ragged nesting
            raise InvalidArgument(f"{where} is not a rectangular array ({exc})") from None
    raise InvalidArgument(
        f"{where} must be an array, a tensor, a DataFrame or a list; got {type(value).__name__}"
    )


def _names(frame: pd.DataFrame) -> list[str]:
    names = list(frame.columns)
    odd = [name for name in names if not isinstance(name, str)]
    if odd:
        raise InvalidArgument(
            f"column names must be text; got {odd[0]!r} ({type(odd[0]).__name__}): name the "
            "columns, or pass a NumPy array for a model that takes a matrix"
        )
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise InvalidArgument(f"the table repeats column names {repeated}; make them unique")
    return names


def _column_spec(name: str, series: pd.Series) -> ColumnSpec:
    series = materialize(series)
    kind = data_type_of(series, where=f"column {name!r}")
    return ColumnSpec(name=name, type=kind, optional=bool(series.isna().any()))


def _tensor_spec(array: np.ndarray, name: str | None) -> TensorSpec:
    where = "the input" if name is None else f"input {name!r}"
    if array.ndim == 0:
        raise InvalidArgument(f"{where} is a single value; give a batch (an array of rows)")
    kind = data_type_of(array, where=where)
    if kind not in NUMERIC_TYPES and kind not in ("bool", "string"):
        raise InvalidArgument(f"{where} holds {kind} values; tensors hold numbers, bools or text")
    return TensorSpec(name=name, dtype=kind, shape=(-1, *array.shape[1:]))


def _tensor_names(schema: TensorSchema) -> list[str | None]:
    return [spec.name for spec in schema.tensors]


def _as_frame(data: Any, schema: TableSchema) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        scalars = all(
            not isinstance(value, list | tuple) and getattr(value, "ndim", 0) == 0
            for value in data.values()
        )
        return pd.DataFrame([data] if scalars else data)
    if isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
        return pd.DataFrame(data)
    names = [column.name for column in schema.columns]
    raise InvalidArgument(
        f"the model expects a table with columns {names}: pass a pandas DataFrame, a dict of "
        f"columns or a list of records; got {type(data).__name__}"
    )


def _enforce_table(schema: TableSchema, frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    names = [column.name for column in schema.columns]
    if frame.columns.duplicated().any():
        repeated = sorted({str(name) for name in frame.columns[frame.columns.duplicated()]})
        raise InvalidArgument(f"the table repeats column names {repeated}; make them unique")
    present = set(frame.columns)
    missing = [c.name for c in schema.columns if c.name not in present and not c.optional]
    if missing:
        raise InvalidArgument(f"missing column(s) {missing}; the model expects columns {names}")
    extra = [name for name in frame.columns if name not in names]
    if extra:
        warnings.warn(
            f"dropping columns the model does not use: {extra}", SignatureWarning, stacklevel=4
        )
    columns = {
        column.name: (
            cast_column(
                frame[column.name],
                column.type,
                where=f"column {column.name!r}",
                optional=column.optional,
            )
            if column.name in present
            else _null_column(column, frame.index)
        )
        for column in schema.columns
    }
    return pd.DataFrame(columns, index=frame.index)


def _null_column(column: ColumnSpec, index: pd.Index) -> pd.Series:
    import numpy as np
    import pandas as pd

    if column.type in FLOAT_TYPES:
        return pd.Series(np.nan, index=index, dtype=column.type, name=column.name)
    if column.type in NUMERIC_TYPES:
        return pd.Series(np.nan, index=index, dtype="float64", name=column.name)
    if column.type == "datetime":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]", name=column.name)
    nulls = pd.Series(None, index=index, dtype=object, name=column.name)
    return nulls.astype("category") if column.type == "category" else nulls


def _enforce_tensor(spec: TensorSpec, array: np.ndarray, where: str) -> np.ndarray:
    expected = spec.shape
    if array.ndim != len(expected) or any(
        want not in (-1, got) for want, got in zip(expected, array.shape, strict=True)
    ):
        shown = tuple("any" if size == -1 else size for size in expected)
        raise InvalidArgument(
            f"{where} has shape {array.shape}; the model expects {shown} ('any' for the batch)"
        )
    return cast_array(array, spec.dtype, where=where)
