"""An in-memory column reduced, in one pass, to what its profile and its drift side need.

Numeric values are sorted once and categories counted once; ``profile_memory`` turns a
digest into a column profile and ``profile_sides`` into a drift side, so a drift report
that also profiles its tables sorts each column once. Nothing here starts DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.datasets.profile_cdf import run_starts
from noria.datasets.profile_kinds import scratch_pool

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from noria.datasets.profiles import ColumnKind

    Floats = npt.NDArray[np.float64]
    Ints = npt.NDArray[np.int64]

UNITS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class NumericDigest:
    """The usable values (not null, not NaN, finite), sorted, and what was left out."""

    ordered: Floats
    first: Ints | None  # where each distinct value starts; None when all are distinct
    total: int
    infinite: int
    mean: float | None
    std: float | None

    @property
    def count(self) -> int:
        return len(self.ordered)

    @property
    def distinct(self) -> int:
        return self.count if self.first is None else len(self.first)


@dataclass(frozen=True)
class CategoryDigest:
    """Every category with its count, most frequent first, ties by label."""

    labels: pa.Array  # strings ("true"/"false" for booleans)
    counts: Ints
    total: int

    @property
    def count(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class FlatDigest:
    """Datetime and other columns: counts, and a datetime's range as DuckDB writes it."""

    total: int
    count: int
    distinct: int
    min: str | None = None
    max: str | None = None


Digest = NumericDigest | CategoryDigest | FlatDigest


def digest_column(column: pa.Array | pa.ChunkedArray, kind: ColumnKind) -> Digest:
    if kind == "numeric":
        return numeric_digest(column)
    if kind in ("categorical", "boolean"):
        return category_digest(column, boolean=kind == "boolean")
    return flat_digest(column, datetime=kind == "datetime")


def _decoded(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type, memory_pool=scratch_pool())
    return column


def numeric_digest(column: pa.Array | pa.ChunkedArray) -> NumericDigest:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    # safe=False: integers beyond 2**53 round to the nearest double, as DuckDB's CAST does.
    floats = pc.cast(_decoded(column), pa.float64(), safe=False, memory_pool=scratch_pool())
    chunks = floats.chunks if isinstance(floats, pa.ChunkedArray) else [floats]
    total = len(floats)
    del floats  # two columns are measured at once: hold one copy of each
    parts = [_finite(chunk) for chunk in chunks]
    infinite = sum(dropped for _, dropped in parts)
    if len(parts) == 1:
        ordered = parts[0][0]
    else:
        ordered = np.concatenate([values for values, _ in parts] or [np.empty(0)])
    del parts, chunks
    ordered.sort()
    count = len(ordered)
    # Moments of the sorted values, so that a profile of the same data is the same profile.
    return NumericDigest(
        ordered=ordered,
        first=run_starts(ordered),
        total=total,
        infinite=infinite,
        mean=float(np.mean(ordered)) if count else None,
        std=float(np.std(ordered)) if count else None,
    )


def _finite(chunk: pa.Array) -> tuple[Floats, int]:
    """A float64 chunk's finite values (a copy, free to sort) and its count of ±inf."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if chunk.null_count:  # nulls become NaN (fill_null takes no memory pool; coalesce does)
        chunk = pc.coalesce(chunk, pa.scalar(np.nan), memory_pool=scratch_pool())
    raw = numpy_view(chunk, np.float64)
    finite = np.isfinite(raw)
    if finite.all():
        return raw.copy(), 0  # the view is Arrow's memory
    return raw[finite], int(np.isinf(raw).sum())


def numpy_view(array: pa.Array, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A fixed-width Arrow array without nulls, as a read-only numpy view of its buffer.

    ``Array.to_numpy`` goes through pyarrow's pandas conversion layer, which imports
    pandas (some 50 MB) whenever it is installed; Arrow-only callers should not pay that.
    """
    import numpy as np

    width = np.dtype(dtype).itemsize
    if array.null_count:
        raise ValueError("numpy_view needs an array without nulls")
    if not len(array):
        return np.empty(0, dtype=dtype)
    return np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * width
    )


def category_digest(column: pa.Array | pa.ChunkedArray, *, boolean: bool) -> CategoryDigest:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    pool = scratch_pool()
    value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_string_view(value_type):  # value_counts loses nulls on string views
        column = pc.cast(column, pa.large_string(), memory_pool=pool)
    tally = pc.value_counts(column, memory_pool=pool)  # dictionaries counted as they are
    values, counts = tally.field("values"), tally.field("counts")
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    valid = values.is_valid()
    values = pc.filter(values, valid, memory_pool=pool)
    counts = pc.filter(counts, valid, memory_pool=pool)
    if boolean:
        values = pc.if_else(values, "true", "false", memory_pool=pool)
    # DuckDB's ORDER BY n DESC, v: Arrow, too, compares strings byte by byte.
    order = pc.sort_indices(
        pa.table({"n": counts, "v": values}),
        sort_keys=[("n", "descending"), ("v", "ascending")],
        memory_pool=pool,
    )
    return CategoryDigest(
        labels=pc.take(values, order, memory_pool=pool),
        counts=numpy_view(pc.take(counts, order, memory_pool=pool), np.int64),
        total=len(column),
    )


def flat_digest(column: pa.Array | pa.ChunkedArray, *, datetime: bool) -> FlatDigest:
    import pyarrow as pa
    import pyarrow.compute as pc

    total = len(column)
    if pa.types.is_null(column.type) or column.null_count == total:
        return FlatDigest(total=total, count=0, distinct=0)
    column = _decoded(column)
    digest = FlatDigest(total=total, count=total - column.null_count, distinct=_distinct(column))
    if not datetime:
        return digest
    extremes = pc.min_max(column, memory_pool=scratch_pool())
    low, high = extremes["min"].value, extremes["max"].value
    return FlatDigest(
        total=digest.total,
        count=digest.count,
        distinct=digest.distinct,
        min=datetime_text(low, column.type),
        max=datetime_text(high, column.type),
    )


def _distinct(column: pa.Array | pa.ChunkedArray) -> int:
    """Distinct non-null values (``unique`` is about twice as fast as ``count_distinct``)."""
    import pyarrow.compute as pc

    unique = pc.unique(column, memory_pool=scratch_pool())
    return len(unique) - (1 if column.null_count else 0)


def datetime_text(value: int, arrow_type: pa.DataType) -> str:
    """A timestamp or date as DuckDB's ``CAST(… AS VARCHAR)`` writes it:
    ``2024-01-31 12:00:00.25`` (trailing zeros of the fraction dropped), ``+00`` after a
    zoned timestamp (written in UTC), a date alone."""
    import pyarrow as pa

    if pa.types.is_date32(arrow_type):
        return _date_text(value)
    if pa.types.is_date64(arrow_type):
        return _date_text(value // (SECONDS_PER_DAY * 1000))
    per_second = UNITS_PER_SECOND[arrow_type.unit]
    seconds, fraction = divmod(value, per_second)
    days, second_of_day = divmod(seconds, SECONDS_PER_DAY)
    hours, rest = divmod(second_of_day, 3600)
    text = f"{_date_text(days)} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if fraction:
        digits = len(str(per_second)) - 1
        text += "." + f"{fraction:0{digits}d}".rstrip("0")
    return text + ("+00" if arrow_type.tz is not None else "")


def _date_text(days: int) -> str:
    import datetime as dt

    try:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat()
    except OverflowError:  # outside years 1-9999; DuckDB would add "(BC)" or more digits
        return f"{days} days from 1970-01-01"
