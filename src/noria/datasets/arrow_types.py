"""Arrow tables from what users pass, and the Arrow type facts schemas and checks rely on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def is_dataframe(value: object) -> bool:
    """A pandas DataFrame, checked without importing pandas."""
    return type(value).__module__.startswith("pandas") and type(value).__name__ == "DataFrame"


def to_arrow_table(table: Any) -> pa.Table:
    """An Arrow table from a pandas DataFrame (its index dropped) or an Arrow table or batch.

    A DataFrame column mixing Python types is named in the error, with its types.
    """
    import pyarrow as pa

    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if not isinstance(table, pa.Table):
        if not is_dataframe(table):
            raise InvalidArgument(
                f"Expected a pandas DataFrame or a pyarrow Table, got {type(table).__name__}: "
                "convert the data to one of them."
            )
        table = dataframe_to_arrow(table)
    names = table.column_names
    if repeated := sorted({name for name in names if names.count(name) > 1}):
        raise InvalidArgument(
            f"Column names must be unique; {', '.join(map(repr, repeated))} appear more than "
            "once: rename them."
        )
    return table


def dataframe_to_arrow(frame: pd.DataFrame) -> pa.Table:
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        problem = f"{exc}"
    for column in frame.columns:  # find the column pyarrow choked on, to name it
        try:
            pa.array(frame[column], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            kinds = sorted({type(value).__name__ for value in frame[column].dropna()})
            raise InvalidArgument(
                f"Column {column!r} mixes value types ({', '.join(kinds)}): convert it to one "
                f"type first, e.g. df[{column!r}] = df[{column!r}].astype(str)."
            ) from None
    raise InvalidArgument(f"The DataFrame cannot be converted to Arrow: {problem}.")


def logical_type_of(arrow_type: pa.DataType) -> str | None:
    """The logical type of an Arrow type, or None when schemas cannot describe it (lists, …)."""
    import pyarrow as pa

    kinds = pa.types
    if kinds.is_dictionary(arrow_type):
        value_type = arrow_type.value_type
        return "categorical" if is_text(value_type) else logical_type_of(value_type)
    checks = (
        (kinds.is_boolean, "boolean"),
        (kinds.is_integer, "integer"),
        (kinds.is_floating, "float"),
        (kinds.is_decimal, "float"),
        (is_text, "string"),
        (kinds.is_timestamp, "datetime"),
        (kinds.is_date, "date"),
        (kinds.is_null, "string"),  # an all-null column: nothing says more
    )
    for matches, logical in checks:
        if matches(arrow_type):
            return logical
    binary = (kinds.is_binary, kinds.is_large_binary, kinds.is_fixed_size_binary)
    if any(matches(arrow_type) for matches in binary) or kinds.is_binary_view(arrow_type):
        return "binary"
    return None


def is_text(arrow_type: pa.DataType) -> bool:
    import pyarrow as pa

    kinds = pa.types
    return bool(
        kinds.is_string(arrow_type)
        or kinds.is_large_string(arrow_type)
        or kinds.is_string_view(arrow_type)
    )


def without_dictionary(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dictionary-encoded values decoded: several compute kernels only take plain arrays."""
    import pyarrow as pa

    if pa.types.is_dictionary(values.type):
        return values.cast(values.type.value_type)
    return values


def distinct_count(values: pa.ChunkedArray) -> int:
    """Distinct non-null values (``unique`` is about twice as fast as ``count_distinct``)."""
    import pyarrow.compute as pc

    return len(pc.unique(values)) - (1 if values.null_count else 0)
