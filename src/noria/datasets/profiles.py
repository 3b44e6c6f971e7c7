"""Statistics profiles: per-column summaries of in-memory tables (numpy and Arrow) or of
Parquet data (streaming DuckDB scans).

A profile is small (kilobytes per column), stored as JSON with each dataset version,
and is enough to test drift against without the rows it was computed from: numeric
columns keep an empirical distribution (exact value counts, or a fine quantile grid)
and categorical columns keep their category counts.

>>> profile = profile_table(pandas.DataFrame({"x": [1.0, 2.0, 2.0]}))
>>> profile.column("x").mean
1.6666666666666667
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from noria.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

ColumnKind = Literal["numeric", "categorical", "boolean", "datetime", "other"]
CategoryValue = str  # booleans are kept as "true"/"false" so that JSON round-trips them

QUANTILE_LABELS = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
QUANTILE_LABELS["p99"] = 0.99
GRID_POINTS = 1001  # quantile grid at probabilities 0, 0.001, …, 1
EXACT_DISTINCT_LIMIT = 1000  # numeric columns with at most this many values keep exact counts
CATEGORY_LIMIT = 1000  # categories kept per column; the rest are pooled in other_count
EXACT_QUANTILE_LIMIT = 20_000_000  # above this many rows, quantiles are approximate
PROFILE_FORMAT = 1


class _Model(BaseModel):
    # Stored profiles outlive the code that wrote them: ignore fields a newer Noria added.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Histogram(_Model):
    """Counts on equal-width bins: ``counts[i]`` values fall in ``[edges[i], edges[i+1])``
    (the last bin is closed)."""

    edges: list[float]
    counts: list[int]


class NumericDistribution(_Model):
    """A numeric column's empirical distribution, compact enough to store.

    ``exact``: ``values`` are every distinct value (sorted) and ``counts`` their counts.
    Otherwise ``values`` is a quantile grid at probabilities ``i / (len(values) - 1)``
    (``values[0]`` the minimum, ``values[-1]`` the maximum) and ``counts`` is empty;
    ``approximate_quantiles`` says the grid came from a t-digest sketch, not a sort.
    """

    exact: bool
    values: list[float]
    counts: list[int] = Field(default_factory=list)
    approximate_quantiles: bool = False


class CategoryCounts(_Model):
    """Category counts, most frequent first; values past the cap are pooled in ``other_count``."""

    values: list[tuple[CategoryValue, int]]
    other_count: int = 0


class ColumnProfile(_Model):
    """One column's statistics.

    ``count`` is the number of usable values: not null, not NaN, and finite. NaN counts
    as null (as in pandas); infinities are counted apart and left out of the moments.
    ``std`` is the population standard deviation (ddof=0, as ``numpy.std``).
    """

    name: str
    kind: ColumnKind
    arrow_type: str
    count: int
    null_count: int
    infinite_count: int = 0
    distinct_estimate: int
    distinct_exact: bool = False
    mean: float | None = None
    std: float | None = None
    min: float | str | None = None
    max: float | str | None = None
    quantiles: dict[str, float] | None = None
    histogram: Histogram | None = None
    top_values: list[tuple[CategoryValue, int]] = Field(default_factory=list)
    distribution: NumericDistribution | None = None
    categories: CategoryCounts | None = None


class DatasetProfile(_Model):
    """A table's statistics: its row count and one :class:`ColumnProfile` per column."""

    format: int = PROFILE_FORMAT
    row_count: int
    columns: list[ColumnProfile]

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> DatasetProfile:
        from pydantic import ValidationError

        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise InvalidArgument(
                f"not a Noria dataset profile: {where}: {first['msg']} "
                f"({exc.error_count()} error(s)); profiles are written by DatasetProfile.to_json"
            ) from None

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> ColumnProfile:
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFound(f"the profile has no column {name!r}; its columns are {self.column_names}")


Progress = Callable[[str], None]


def profile_table(
    table: pa.Table | pd.DataFrame,
    *,
    bins: int = 20,
    top_k: int = 20,
    progress: Progress | None = None,
    exact_quantile_limit: int = EXACT_QUANTILE_LIMIT,
) -> DatasetProfile:
    """Profile an in-memory Arrow table or pandas DataFrame.

    Up to ``exact_quantile_limit`` rows, numpy and Arrow compute read the columns where
    they lie (a DataFrame's one at a time) and every statistic is exact; above it DuckDB
    streams over the table and sketches quantiles. ``progress`` receives short messages
    as columns are done (from worker threads)."""
    from noria.datasets.profile_kinds import in_memory_table, to_arrow_table

    columns = in_memory_table(table)
    if columns.rows <= exact_quantile_limit:
        from noria.datasets.profile_memory import profile_in_memory

        return profile_in_memory(columns, bins=bins, top_k=top_k, progress=progress)
    from noria.datasets.profile_engine import profile_source
    from noria.datasets.profile_sql import arrow_source

    with arrow_source(to_arrow_table(table)) as source:
        return profile_source(
            source,
            bins=bins,
            top_k=top_k,
            progress=progress,
            exact_quantile_limit=exact_quantile_limit,
        )


def profile_parquet(
    path: str | Path | Sequence[str | Path],
    *,
    bins: int = 20,
    top_k: int = 20,
    progress: Progress | None = None,
    exact_quantile_limit: int = EXACT_QUANTILE_LIMIT,
) -> DatasetProfile:
    """Profile Parquet data in batches: a file, a folder (every ``*.parquet`` below it),
    a glob, or a list of those. Memory stays bounded whatever the data's size;
    ``progress`` receives short messages as columns are done (from worker threads)."""
    from noria.datasets.profile_engine import profile_source
    from noria.datasets.profile_sql import parquet_source

    with parquet_source(path) as source:
        return profile_source(
            source,
            bins=bins,
            top_k=top_k,
            progress=progress,
            exact_quantile_limit=exact_quantile_limit,
        )
