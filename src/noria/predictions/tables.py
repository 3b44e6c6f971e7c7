"""Rows ↔ Arrow tables for segments: typed where the log knows the type, inferred elsewhere,
and text where one column's values (or segments) disagree, so one odd request never stops the
log or makes a window unreadable."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class RowGroup:
    """One item's rows, bound for one stream; every row carries ``time`` = ``time_ms``."""

    stream: str
    time_ms: int
    rows: Sequence[Mapping[str, Any]]


def rows_to_table(
    groups: Sequence[RowGroup],
    fixed_types: Mapping[str, pa.DataType],
    *,
    text_fallback: bool = False,
) -> pa.Table:
    """The groups' rows as one table: fixed columns typed, the others inferred from values.

    Keys missing from a row are nulls. With ``text_fallback``, a column whose values have no
    common type is stored as JSON text instead of failing.
    """
    import pyarrow as pa

    names: dict[str, None] = dict.fromkeys(fixed_types)
    for group in groups:
        for row in group.rows:
            names.update(dict.fromkeys(row))
    columns: dict[str, pa.Array] = {}
    for name in names:
        values = [row.get(name) for group in groups for row in group.rows]
        try:
            columns[name] = pa.array(values, fixed_types.get(name))
        except pa.ArrowException:
            if not text_fallback or name in fixed_types:
                raise
            columns[name] = pa.array([as_text(value) for value in values], pa.string())
    return pa.table(columns)


def concat_segments(tables: list[pa.Table], empty: pa.Schema) -> pa.Table:
    """One table from segments whose columns may differ (missing columns become nulls).

    A column whose types cannot be promoted to one (text in one segment, numbers in another)
    is read as text everywhere (non-text values as JSON), so one odd request never makes a
    window unreadable.
    """
    import pyarrow as pa

    if not tables:
        return empty.empty_table()
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        clashing = _clashing_columns(tables)
        as_text = [_columns_as_text(table, clashing) for table in tables]
        return pa.concat_tables(as_text, promote_options="permissive")


def _clashing_columns(tables: list[pa.Table]) -> set[str]:
    import pyarrow as pa

    types: dict[str, set[pa.DataType]] = {}
    for table in tables:
        for field in table.schema:
            if not pa.types.is_null(field.type):
                types.setdefault(field.name, set()).add(field.type)
    return {name for name, kinds in types.items() if len(kinds) > 1}


def _columns_as_text(table: pa.Table, names: set[str]) -> pa.Table:
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        if field.name in names:
            text = pa.array(
                [as_text(value) for value in table.column(index).to_pylist()], pa.string()
            )
            table = table.set_column(index, field.name, text)
    return table


def as_text(value: object) -> str | None:
    """A value for a text column: text as is, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)
