"""Which kind of statistics a column gets, from its Arrow type; pandas → Arrow with clear errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.datasets.arrow_types import is_dataframe
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from noria.datasets.profiles import ColumnKind


def scratch_pool() -> pa.MemoryPool:
    """The allocator for the Arrow buffers profiling and drift make and drop: the
    system's, which hands large freed blocks back at once. Arrow's default (mimalloc)
    keeps them for reuse, which doubled the memory a 100,000-row drift job added."""
    import pyarrow as pa

    return pa.system_memory_pool()


def column_kind(arrow_type: pa.DataType) -> ColumnKind:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return column_kind(arrow_type.value_type)
    checks: list[tuple[ColumnKind, tuple[Callable[[pa.DataType], bool], ...]]] = [
        ("boolean", (pa.types.is_boolean,)),
        ("numeric", (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)),
        ("categorical", (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)),
        ("datetime", (pa.types.is_timestamp, pa.types.is_date)),
    ]
    for kind, predicates in checks:
        if any(predicate(arrow_type) for predicate in predicates):
            return kind
    return "other"


def to_arrow_table(table: Any) -> pa.Table:
    """An Arrow table as is; a pandas DataFrame converted column by column, so that a
    column of mixed Python types is named in the error."""
    import pyarrow as pa

    if isinstance(table, pa.Table):
        return table
    frame = _check_frame(table)
    names = _frame_names(frame)
    arrays = [pandas_column(frame, position) for position in range(len(names))]
    return pa.table(arrays, names=names)


@dataclass(frozen=True)
class InMemoryTable:
    """An Arrow table or a DataFrame seen column by column: a DataFrame's columns are
    converted to Arrow one at a time, when asked for, so the frame is never copied whole."""

    names: list[str]
    rows: int
    column: Callable[[int], pa.Array | pa.ChunkedArray]


def in_memory_table(table: Any) -> InMemoryTable:
    import pyarrow as pa

    if isinstance(table, pa.Table):
        names = list(table.column_names)
        _check_unique(names, "table")
        return InMemoryTable(names, table.num_rows, table.column)
    frame = _check_frame(table)
    return InMemoryTable(
        _frame_names(frame), len(frame), lambda position: pandas_column(frame, position)
    )


def _check_frame(table: Any) -> pd.DataFrame:
    if not is_dataframe(table):
        raise InvalidArgument(
            f"expected a pyarrow.Table or pandas.DataFrame, got {type(table).__name__}; "
            "convert the data to one of them (or profile a Parquet path)"
        )
    frame: pd.DataFrame = table
    return frame


def _frame_names(frame: pd.DataFrame) -> list[str]:
    names = [str(name) for name in frame.columns]
    _check_unique(names, "DataFrame")
    return names


def _check_unique(names: list[str], what: str) -> None:
    if len(set(names)) != len(names):
        duplicated = sorted({name for name in names if names.count(name) > 1})
        raise InvalidArgument(f"the {what} has duplicate column names {duplicated}; rename them")


def pandas_column(frame: pd.DataFrame, position: int) -> pa.Array:
    """One DataFrame column as Arrow; a column of mixed Python types is named in the error."""
    import pyarrow as pa

    series = frame.iloc[:, position]
    try:
        return pa.array(series, from_pandas=True, memory_pool=scratch_pool())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        name = str(frame.columns[position])
        found = sorted({type(value).__name__ for value in series.dropna()})
        raise InvalidArgument(
            f"column {name!r} mixes value types {found} and cannot be profiled ({exc}); "
            f"cast it to one type first, e.g. df[{name!r}] = df[{name!r}].astype(str)"
        ) from None
