"""Anomalies, and the checks of one column's values against its schema (pyarrow.compute).

Severity rules (documented in docs/data-validation.md): a wrong type, nulls where none are
allowed and repeated values in a unique or id column are errors; values out of range and
unseen categories are errors when more than ``error_fraction`` of the column's non-null values
(1 % by default) are affected, warnings below that, so one stray value does not fail a pipeline.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from noria.datasets.arrow_types import distinct_count, logical_type_of, without_dictionary
from noria.datasets.schema import RANGED_TYPES, ColumnSchema, parse_datetime_bound

if TYPE_CHECKING:
    import pyarrow as pa

ERROR_FRACTION = 0.01
MAX_EXAMPLES = 5
Severity = Literal["error", "warning"]
# (expected, actual) logical types that hold the same values: an int fits a float column and
# text fits a categorical one. Float data in an integer column is checked value by value.
_COMPATIBLE = {("float", "integer"), ("categorical", "string"), ("string", "categorical")}


class AnomalyKind(StrEnum):
    MISSING_COLUMN = "missing_column"
    UNEXPECTED_COLUMN = "unexpected_column"
    TYPE_MISMATCH = "type_mismatch"
    NULL_VALUES = "null_values"
    OUT_OF_RANGE = "out_of_range"
    UNSEEN_CATEGORY = "unseen_category"
    DUPLICATE_VALUES = "duplicate_values"
    ROW_COUNT = "row_count"
    CHECK_FAILED = "check_failed"


class Anomaly(BaseModel):
    """One way a table breaks its schema. ``count``/``fraction`` say how much of it is affected."""

    model_config = ConfigDict(frozen=True)

    column: str | None
    kind: str
    severity: Severity
    message: str
    examples: list[Any] = Field(default_factory=list)  # JSON-serialisable, at most MAX_EXAMPLES
    count: int | None = None
    fraction: float | None = None


def check_column(
    values: pa.ChunkedArray, column: ColumnSchema, *, error_fraction: float = ERROR_FRACTION
) -> list[Anomaly]:
    """The anomalies of one present column; value checks are skipped when the type is wrong."""
    found = [_null_values(values, column)]
    mismatch = _type_mismatch(values, column)
    if mismatch is not None:
        return [anomaly for anomaly in (*found, mismatch) if anomaly is not None]
    found += [
        _out_of_range(values, column, error_fraction),
        _unseen_categories(values, column, error_fraction),
        _duplicate_values(values, column),
    ]
    return [anomaly for anomaly in found if anomaly is not None]


def _null_values(values: pa.ChunkedArray, column: ColumnSchema) -> Anomaly | None:
    nulls = values.null_count
    if column.nullable or nulls == 0:
        return None
    fraction = nulls / len(values)
    return Anomaly(
        column=column.name,
        kind=AnomalyKind.NULL_VALUES,
        severity="error",
        message=f"column {column.name!r} has {nulls:,} null values ({percent(fraction)} of "
        f"{len(values):,} rows) but the schema does not allow nulls; "
        "set `nullable: true` if they are expected",
        count=nulls,
        fraction=fraction,
    )


def _type_mismatch(values: pa.ChunkedArray, column: ColumnSchema) -> Anomaly | None:
    import pyarrow as pa

    actual = logical_type_of(values.type)
    if pa.types.is_null(values.type) or actual == column.type:
        return None  # an all-null column fits any type; the null check speaks for it
    if (column.type, actual) in _COMPATIBLE:
        return None
    if (column.type, actual) == ("integer", "float"):
        return _fractional_values(values, column)
    return Anomaly(
        column=column.name,
        kind=AnomalyKind.TYPE_MISMATCH,
        severity="error",
        message=f"column {column.name!r} should hold {column.type} values but holds "
        f"{actual or 'unsupported'} values (Arrow type {values.type})",
    )


def _fractional_values(values: pa.ChunkedArray, column: ColumnSchema) -> Anomaly | None:
    """Floats where integers are expected pass only when every value is a whole number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    floats = values.cast(pa.float64()) if pa.types.is_decimal(values.type) else values
    fractional = pc.or_(pc.not_equal(pc.floor(floats), floats), pc.invert(pc.is_finite(floats)))
    count = pc.sum(fractional).as_py() or 0
    if count == 0:
        return None
    non_null = len(values) - values.null_count
    examples = first_examples(values.filter(fractional))
    return Anomaly(
        column=column.name,
        kind=AnomalyKind.TYPE_MISMATCH,
        severity="error",
        message=f"column {column.name!r} should hold integers but holds floats, {count:,} of "
        f"which ({percent(count / non_null)} of {non_null:,} non-null values) are not whole "
        f"numbers, e.g. {shown(examples)}",
        examples=examples,
        count=count,
        fraction=count / non_null,
    )


def _out_of_range(
    values: pa.ChunkedArray, column: ColumnSchema, error_fraction: float
) -> Anomaly | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.type not in RANGED_TYPES or (column.min is None and column.max is None):
        return None
    comparable = values.cast(pa.float64()) if pa.types.is_decimal(values.type) else values
    comparable = without_dictionary(comparable)
    masks = []
    if column.min is not None:
        masks.append(pc.less(comparable, _bound_scalar(column.min, column.type, comparable.type)))
    if column.max is not None:
        masks.append(
            pc.greater(comparable, _bound_scalar(column.max, column.type, comparable.type))
        )
    outside = masks[0] if len(masks) == 1 else pc.or_(masks[0], masks[1])
    count = pc.sum(outside).as_py() or 0
    if count == 0:
        return None
    non_null = len(values) - values.null_count
    examples = _as_declared(column, first_examples(comparable.filter(outside)))
    return Anomaly(
        column=column.name,
        kind=AnomalyKind.OUT_OF_RANGE,
        severity=_severity(count / non_null, error_fraction),
        message=f"column {column.name!r} has {count:,} values ({percent(count / non_null)} of "
        f"{non_null:,} non-null values) outside the allowed range {_range_text(column)}, "
        f"e.g. {shown(examples)}",
        examples=examples,
        count=count,
        fraction=count / non_null,
    )


def _bound_scalar(bound: float | int | str, logical_type: str, arrow_type: pa.DataType) -> Any:
    import pyarrow as pa

    if logical_type == "datetime":
        # UTC-naive: Arrow reads a naive value as UTC for a zoned column, as the docs promise.
        return pa.scalar(parse_datetime_bound(str(bound)), type=arrow_type)
    if logical_type == "date":
        return pa.scalar(date.fromisoformat(str(bound)), type=arrow_type)
    return pa.scalar(bound)


def _range_text(column: ColumnSchema) -> str:
    if column.min is not None and column.max is not None:
        return f"[{column.min}, {column.max}]"
    return f">= {column.min}" if column.min is not None else f"<= {column.max}"


def _unseen_categories(
    values: pa.ChunkedArray, column: ColumnSchema, error_fraction: float
) -> Anomaly | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.type != "categorical" or column.categories is None:
        return None
    # Count each distinct value once (cheap on dictionary columns), then look up the few.
    counts = pc.value_counts(values)
    seen, frequencies = counts.field("values"), counts.field("counts")
    if pa.types.is_dictionary(seen.type):
        seen = seen.cast(seen.type.value_type)
    allowed = pa.array(column.categories, type=seen.type)
    unseen = pc.and_(pc.invert(pc.is_in(seen, value_set=allowed)), pc.is_valid(seen))
    seen, frequencies = seen.filter(unseen), frequencies.filter(unseen)
    count = pc.sum(frequencies).as_py() or 0
    if count == 0:
        return None
    top = pc.sort_indices(frequencies, sort_keys=[("", "descending")])[:MAX_EXAMPLES]
    examples = [jsonable(value) for value in seen.take(top).to_pylist()]
    tallies = ", ".join(
        f"{value!r} ({times:,} rows)"
        for value, times in zip(examples, frequencies.take(top).to_pylist(), strict=True)
    )
    non_null = len(values) - values.null_count
    return Anomaly(
        column=column.name,
        kind=AnomalyKind.UNSEEN_CATEGORY,
        severity=_severity(count / non_null, error_fraction),
        message=f"column {column.name!r} has {count:,} values ({percent(count / non_null)} of "
        f"{non_null:,} non-null values) outside its {len(column.categories)} categories: "
        f"{tallies}{' …' if len(seen) > MAX_EXAMPLES else ''}",
        examples=examples,
        count=count,
        fraction=count / non_null,
    )


def _duplicate_values(values: pa.ChunkedArray, column: ColumnSchema) -> Anomaly | None:
    import pyarrow.compute as pc

    if not (column.unique or column.role == "id"):
        return None
    plain = without_dictionary(values)
    non_null = len(plain) - plain.null_count
    extra = non_null - distinct_count(plain)
    if extra == 0:
        return None
    counts = pc.value_counts(plain)
    repeated = pc.and_(pc.greater(counts.field("counts"), 1), pc.is_valid(counts.field("values")))
    counts = counts.filter(repeated)
    top = pc.sort_indices(counts.field("counts"), sort_keys=[("", "descending")])[:MAX_EXAMPLES]
    examples = [jsonable(value) for value in counts.field("values").take(top).to_pylist()]
    examples = _as_declared(column, examples)
    tallies = ", ".join(
        f"{value!r} ({times:,} times)"
        for value, times in zip(examples, counts.field("counts").take(top).to_pylist(), strict=True)
    )
    why = "is an id" if column.role == "id" else "should be unique"
    return Anomaly(
        column=column.name,
        kind=AnomalyKind.DUPLICATE_VALUES,
        severity="error",
        message=f"column {column.name!r} {why} but {len(counts):,} values appear more than once "
        f"({extra:,} extra rows), e.g. {tallies}",
        examples=examples,
        count=extra,
        fraction=extra / non_null,
    )


def _as_declared(column: ColumnSchema, examples: list[Any]) -> list[Any]:
    """Whole floats shown as ints in an integer column (pandas makes ints with nulls floats)."""
    if column.type != "integer":
        return examples
    return [int(v) if isinstance(v, float) and v.is_integer() else v for v in examples]


def _severity(fraction: float, error_fraction: float) -> Severity:
    return "error" if fraction > error_fraction else "warning"


def first_examples(values: pa.ChunkedArray) -> list[Any]:
    """Up to MAX_EXAMPLES distinct values, in table order, as JSON-serialisable values."""
    import pyarrow.compute as pc

    head = values.slice(0, 1000)  # enough to find a few distinct ones without scanning all
    return [jsonable(value) for value in pc.unique(head).to_pylist()[:MAX_EXAMPLES]]


def jsonable(value: Any) -> Any:
    """A value JSON can carry: dates as ISO text, bytes as hex, NaN and infinities as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def shown(examples: list[Any]) -> str:
    return ", ".join(repr(value) if isinstance(value, str) else str(value) for value in examples)


def percent(fraction: float) -> str:
    """A share as a percentage with 3 significant digits: 1 row in a million is not "0.00%"."""
    return f"{fraction * 100:.3g}%"
