"""A column as the drift tests see it, taken from a stored profile or from raw rows.

Raw rows give exact samples; a profile gives what it kept (exact value counts, or a
quantile grid, and category counts up to a cap). Either way the tests get the same
shapes, so a stored reference profile never needs its rows again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from noria.datasets.profile_cdf import CdfModel
from noria.datasets.profile_digest import CategoryDigest, Digest, NumericDigest, digest_column
from noria.datasets.profile_kinds import column_kind, in_memory_table
from noria.datasets.profile_memory import (
    measured_in_memory,
    profile_in_memory,
    profile_of_column,
    profile_of_digest,
)
from noria.datasets.profile_sql import column_spec
from noria.datasets.profiles import (
    EXACT_QUANTILE_LIMIT,
    ColumnKind,
    ColumnProfile,
    DatasetProfile,
    profile_table,
)

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class ColumnSide:
    """One column on one side of a drift comparison."""

    kind: ColumnKind
    count: int
    distinct: int
    model: CdfModel | None = None  # numeric
    mean: float | None = None
    std: float | None = None
    categories: dict[str, int] | None = None  # categorical and boolean
    other_count: int = 0
    approximate: bool = False  # a quantile grid stands in for the values


class Sides:
    """The columns of one input; a column's side is built when asked for (and not kept,
    so comparing many columns holds only the ones being compared).

    With ``collect_profiles``, each in-memory column measured for drift also yields its
    profile, from the same sorted values; :meth:`profile` then profiles only the rest.
    """

    def __init__(
        self,
        data: Any,
        *,
        collect_profiles: bool = False,
        bins: int = 20,
        top_k: int = 20,
    ) -> None:
        self._bins, self._top_k = bins, top_k
        self._collected: dict[int, ColumnProfile] = {}
        if isinstance(data, DatasetProfile):
            self._stored: DatasetProfile | None = data
            self.names = data.column_names
            self._collect = False
            return
        self._stored, self._data = None, data
        self._table = in_memory_table(data)
        self.names = self._table.names
        self._positions = {name: index for index, name in enumerate(self.names)}
        self._collect = collect_profiles and self._table.rows <= EXACT_QUANTILE_LIMIT

    def side(self, name: str) -> ColumnSide:
        if self._stored is not None:
            return side_of_profile(self._stored.column(name))
        position = self._positions[name]
        column = self._table.column(position)
        spec = column_spec(name, column.type)
        if spec.kind not in ("numeric", "categorical", "boolean"):
            if self._collect:
                self._collected[position] = self._profile_of(name, column)
            return ColumnSide(kind=spec.kind, count=len(column) - column.null_count, distinct=0)
        digest = digest_column(column, spec.kind)
        if self._collect:
            self._collected[position] = (
                profile_of_digest(spec, digest, bins=self._bins, top_k=self._top_k)
                if measured_in_memory(column.type)
                else self._profile_of(name, column)
            )
        return side_of_digest(spec.kind, digest)

    def kind(self, name: str) -> ColumnKind:
        if self._stored is not None:
            return self._stored.column(name).kind
        return column_kind(self._table.column(self._positions[name]).type)

    def profile(self) -> DatasetProfile:
        """The input's profile: as given, or made from the table (reusing what
        :meth:`side` measured)."""
        if self._stored is not None:
            return self._stored
        if self._collect:
            return profile_in_memory(
                self._table, bins=self._bins, top_k=self._top_k, done=self._collected
            )
        return profile_table(self._data, bins=self._bins, top_k=self._top_k)

    def _profile_of(self, name: str, column: pa.Array | pa.ChunkedArray) -> ColumnProfile:
        return profile_of_column(name, column, bins=self._bins, top_k=self._top_k)


def side_of_profile(column: ColumnProfile) -> ColumnSide:
    import numpy as np

    if column.kind == "numeric" and column.distribution is not None and column.count:
        dist = column.distribution
        values = np.array(dist.values, dtype=np.float64)
        if dist.exact:
            model = CdfModel.from_counts(values, np.array(dist.counts, dtype=np.float64))
        else:
            model = CdfModel.from_grid(values, column.count)
        return ColumnSide(
            kind="numeric",
            count=column.count,
            distinct=column.distinct_estimate,
            model=model,
            mean=column.mean,
            std=column.std,
            approximate=not dist.exact,
        )
    if column.categories is not None:
        return ColumnSide(
            kind=column.kind,
            count=column.count,
            distinct=column.distinct_estimate,
            categories=dict(column.categories.values),
            other_count=column.categories.other_count,
        )
    return ColumnSide(kind=column.kind, count=column.count, distinct=column.distinct_estimate)


def side_of_digest(kind: ColumnKind, digest: Digest) -> ColumnSide:
    """A raw column's side: the exact sample, or every category's count."""
    if isinstance(digest, NumericDigest):
        if not digest.count:
            return ColumnSide(kind=kind, count=0, distinct=0)
        return ColumnSide(
            kind=kind,
            count=digest.count,
            distinct=digest.distinct,
            model=CdfModel.from_sorted(digest.ordered, digest.first),
            mean=digest.mean,
            std=digest.std,
        )
    if isinstance(digest, CategoryDigest):
        labels, counts = digest.labels.to_pylist(), digest.counts.tolist()
        categories = dict(zip(labels, counts, strict=True))
        return ColumnSide(
            kind=kind, count=sum(counts), distinct=len(categories), categories=categories
        )
    return ColumnSide(kind=kind, count=digest.count, distinct=0)
