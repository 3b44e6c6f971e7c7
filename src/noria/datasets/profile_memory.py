"""Profiles of in-memory tables with numpy and Arrow compute: no DuckDB, no copy of the table.

Up to ``exact_quantile_limit`` rows the DuckDB engine fetches every numeric column and
sorts it in numpy anyway; this engine reads each column where it lies (a DataFrame's one
column at a time), so profiling in-memory data never starts DuckDB. It writes the profile
the DuckDB engine writes for the same data (the tests compare them) except that distinct
counts are always exact, where DuckDB estimates those of datetime columns and of
categorical columns past the category cap. Decimal and nested columns are profiled by
DuckDB (its decimal-to-double cast differs from Arrow's in the last bit).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from noria.datasets.profile_digest import (
    CategoryDigest,
    Digest,
    NumericDigest,
    digest_column,
)
from noria.datasets.profile_engine import assemble_column_profile, check_sizes
from noria.datasets.profile_numeric import details_of_sorted
from noria.datasets.profile_sql import THREADS, Basics, ColumnSpec, column_spec
from noria.datasets.profiles import (
    CATEGORY_LIMIT,
    EXACT_QUANTILE_LIMIT,
    CategoryCounts,
    ColumnProfile,
    DatasetProfile,
    Progress,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.datasets.profile_kinds import InMemoryTable


def measured_in_memory(arrow_type: pa.DataType) -> bool:
    """Whether this engine profiles a column of this type (otherwise DuckDB does)."""
    import pyarrow as pa

    kinds = pa.types
    value_type = arrow_type.value_type if kinds.is_dictionary(arrow_type) else arrow_type
    checks = (
        kinds.is_integer,
        kinds.is_floating,
        kinds.is_boolean,
        kinds.is_string,
        kinds.is_large_string,
        kinds.is_string_view,
        kinds.is_timestamp,
        kinds.is_date,
        kinds.is_binary,
        kinds.is_large_binary,
        kinds.is_fixed_size_binary,
        kinds.is_binary_view,
        kinds.is_time,
        kinds.is_duration,
        kinds.is_null,
    )
    return any(check(value_type) for check in checks)


def profile_of_digest(spec: ColumnSpec, digest: Digest, *, bins: int, top_k: int) -> ColumnProfile:
    """A column's profile from its digest; the same as the DuckDB engine's."""
    details = categories = None
    if isinstance(digest, NumericDigest):
        ordered, count = digest.ordered, digest.count
        basics = Basics(
            count=count,
            null_count=digest.total - count - digest.infinite,
            infinite_count=digest.infinite,
            distinct_estimate=digest.distinct,
            mean=digest.mean,
            std=digest.std,
            min=float(ordered[0]) if count else None,
            max=float(ordered[-1]) if count else None,
            distinct_exact=True,
        )
        details = details_of_sorted(ordered, digest.first, bins) if count else None
    elif isinstance(digest, CategoryDigest):
        count = digest.count
        basics = Basics(count, digest.total - count, 0, len(digest.labels), distinct_exact=True)
        if count:
            kept = list(
                zip(
                    digest.labels[:CATEGORY_LIMIT].to_pylist(),
                    digest.counts[:CATEGORY_LIMIT].tolist(),
                    strict=True,
                )
            )
            other = count - sum(n for _, n in kept)
            categories = CategoryCounts(values=kept, other_count=other)
    else:
        basics = Basics(
            count=digest.count,
            null_count=digest.total - digest.count,
            infinite_count=0,
            distinct_estimate=digest.distinct,
            min=digest.min,
            max=digest.max,
            distinct_exact=True,
        )
    return assemble_column_profile(spec, basics, details, categories, top_k=top_k)


def profile_of_column(
    name: str, column: pa.Array | pa.ChunkedArray, *, bins: int, top_k: int
) -> ColumnProfile:
    spec = column_spec(name, column.type)
    if measured_in_memory(column.type):
        return profile_of_digest(spec, digest_column(column, spec.kind), bins=bins, top_k=top_k)
    return _with_duckdb(name, column, bins=bins, top_k=top_k)


def _with_duckdb(
    name: str, column: pa.Array | pa.ChunkedArray, *, bins: int, top_k: int
) -> ColumnProfile:
    import pyarrow as pa

    from noria.datasets.profile_engine import profile_source
    from noria.datasets.profile_sql import arrow_source

    with arrow_source(pa.table({name: column})) as source:
        profile = profile_source(
            source, bins=bins, top_k=top_k, exact_quantile_limit=EXACT_QUANTILE_LIMIT
        )
    return profile.columns[0]


def profile_in_memory(
    table: InMemoryTable,
    *,
    bins: int,
    top_k: int,
    progress: Progress | None = None,
    done: Mapping[int, ColumnProfile] | None = None,
) -> DatasetProfile:
    """Profile every column, two at a time (sorting and Arrow kernels release the GIL);
    ``done`` holds profiles already made, by column position."""
    check_sizes(bins, top_k)
    say = progress or (lambda _message: None)
    known = done or {}
    total = len(table.names)
    say(f"profiling {table.rows} rows x {total} columns in memory")

    def one(position: int) -> ColumnProfile:
        if position in known:
            return known[position]
        name = table.names[position]
        profile = profile_of_column(name, table.column(position), bins=bins, top_k=top_k)
        say(f"column {position + 1}/{total}: {name} ({profile.kind})")
        return profile

    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="noria-profile") as pool:
        columns = list(pool.map(one, range(total)))
    say(f"profiled {table.rows} rows x {total} columns")
    return DatasetProfile(row_count=table.rows, columns=columns)
