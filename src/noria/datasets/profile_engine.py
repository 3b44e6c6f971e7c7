"""Assemble a :class:`DatasetProfile` from a DuckDB source: one scan for every column's
basics, then one narrow pass per numeric or categorical column."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from noria.datasets.profile_numeric import NumericDetails, numeric_details
from noria.datasets.profile_sql import (
    RELATION,
    THREADS,
    Basics,
    ColumnSpec,
    Source,
    scan_basics,
)
from noria.datasets.profiles import (
    CATEGORY_LIMIT,
    CategoryCounts,
    ColumnProfile,
    DatasetProfile,
    Progress,
)
from noria.errors import InvalidArgument


def check_sizes(bins: int, top_k: int) -> None:
    if not 1 <= bins <= 10_000:
        raise InvalidArgument(f"bins must be between 1 and 10000, got {bins}")
    if not 0 <= top_k <= CATEGORY_LIMIT:
        raise InvalidArgument(f"top_k must be between 0 and {CATEGORY_LIMIT}, got {top_k}")


def profile_source(
    source: Source,
    *,
    bins: int,
    top_k: int,
    exact_quantile_limit: int,
    progress: Progress | None = None,
) -> DatasetProfile:
    check_sizes(bins, top_k)
    say = progress or (lambda _message: None)
    total = len(source.columns)
    say(f"scanning {total} columns for counts, nulls, distinct values and moments")
    row_count, all_basics = scan_basics(source, exact_quantile_limit=exact_quantile_limit)

    def one(position: int) -> ColumnProfile:
        spec, basics = source.columns[position], all_basics[position]
        if spec.kind in ("numeric", "categorical", "boolean") and basics.count:
            say(f"column {position + 1}/{total}: {spec.name} ({spec.kind})")
        return _column_profile(source, spec, basics, bins=bins, top_k=top_k)

    # DuckDB runs one query at a time (Source.lock); the numpy work on the values it
    # returns (sorting above all) releases the GIL, so two columns proceed at once.
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="noria-profile") as pool:
        columns = list(pool.map(one, range(total)))
    say(f"profiled {row_count} rows x {total} columns")
    return DatasetProfile(row_count=row_count, columns=columns)


def _column_profile(
    source: Source, spec: ColumnSpec, basics: Basics, *, bins: int, top_k: int
) -> ColumnProfile:
    details = categories = None
    if spec.kind == "numeric":
        basics, details = numeric_details(source, spec, basics, bins=bins)
    elif spec.kind in ("categorical", "boolean") and basics.count:
        categories = category_counts(source, spec, basics.count)
    return assemble_column_profile(spec, basics, details, categories, top_k=top_k)


def assemble_column_profile(
    spec: ColumnSpec,
    basics: Basics,
    details: NumericDetails | None,
    categories: CategoryCounts | None,
    *,
    top_k: int,
) -> ColumnProfile:
    """One column's profile from what an engine (DuckDB or in-memory) measured."""
    base = ColumnProfile(
        name=spec.name,
        kind=spec.kind,
        arrow_type=spec.arrow_type,
        count=basics.count,
        null_count=basics.null_count,
        infinite_count=basics.infinite_count,
        distinct_estimate=basics.distinct_estimate if basics.count else 0,
        distinct_exact=basics.count == 0 or basics.distinct_exact,
    )
    if spec.kind == "numeric":
        if details is None:
            return base
        distinct = {"distinct_estimate": details.distinct, "distinct_exact": True}
        return base.model_copy(
            update={
                **(distinct if details.distinct is not None else {}),
                "mean": basics.mean,
                "std": basics.std,
                "min": basics.min,
                "max": basics.max,
                "quantiles": details.quantiles,
                "histogram": details.histogram,
                "distribution": details.distribution,
            }
        )
    if categories is not None:
        exact = {"distinct_estimate": len(categories.values), "distinct_exact": True}
        return base.model_copy(
            update={
                **(exact if categories.other_count == 0 else {}),
                "categories": categories,
                "top_values": categories.values[:top_k],
            }
        )
    if spec.kind == "datetime":
        return base.model_copy(update={"min": basics.min, "max": basics.max})
    return base


def category_counts(source: Source, spec: ColumnSpec, count: int) -> CategoryCounts:
    """The most frequent categories (ties by value) up to the cap; the rest pooled."""
    sql = (
        f"SELECT v, count(*) AS n FROM (SELECT {spec.value} AS v FROM {RELATION}) "
        f"WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {CATEGORY_LIMIT}"
    )
    kept = [(str(value), int(n)) for value, n in source.query(sql)]
    return CategoryCounts(values=kept, other_count=count - sum(n for _, n in kept))
