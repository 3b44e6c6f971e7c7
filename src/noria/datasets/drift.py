"""Drift: compare a table (or its profile) with a reference, column by column.

>>> report = detect_drift(current_frame, reference_profile)
>>> report.drifted, [c.column for c in report.columns if c.drifted]

Defaults follow Evidently's by size and type: a numeric column whose reference has at
most 1,000 values gets the two-sample KS test, a larger one the Wasserstein distance
divided by the reference's standard deviation; a categorical (or boolean, or numeric
with at most 5 distinct values) column gets the chi-square test, or the Jensen-Shannon
distance when large. P-value tests on default thresholds share a 5% family-wise error
rate (Bonferroni), so two samples of the same data flag no column at least 95% of the
time, however many columns are compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from noria.datasets.drift_tests import (
    Score,
    check_overrides,
    choose_test,
    resolve_thresholds,
    score_column,
)
from noria.datasets.profile_engine import check_sizes
from noria.datasets.profile_sides import Sides
from noria.datasets.profile_sql import THREADS
from noria.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from noria.datasets.profiles import DatasetProfile

Status = Literal[
    "tested",
    "missing_in_current",
    "missing_in_reference",
    "kind_mismatch",
    "no_values",
    "not_tested",
]


class ColumnDrift(BaseModel):
    """One column's test result. ``severity`` orders columns: ≥ 1 exactly when drifted
    (``statistic / threshold`` for distances, ``log p / log threshold`` for p-values)."""

    model_config = ConfigDict(frozen=True)

    column: str
    test: str
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool
    kind: str
    status: Status = "tested"
    severity: float = 0.0
    reference_count: int = 0
    current_count: int = 0
    approximate: bool = False
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


class DriftReport(BaseModel):
    """Every compared column, in input order; :meth:`by_severity` sorts them."""

    model_config = ConfigDict(frozen=True)

    drifted: bool
    drift_share: float
    share_threshold: float
    tested_columns: int
    drifted_columns: int
    columns: list[ColumnDrift]

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: ``{"drifted", "drift_share", "columns": [...]}`` and more."""
        return self.model_dump()

    def by_severity(self) -> list[ColumnDrift]:
        """Drifted columns first, then by decreasing severity; untested columns last."""
        return sorted(
            self.columns,
            key=lambda c: (not c.drifted, c.status != "tested", -c.severity, c.column),
        )

    def column(self, name: str) -> ColumnDrift:
        for column in self.columns:
            if column.column == name:
                return column
        raise NotFound(
            f"the drift report has no column {name!r}; "
            f"its columns are {[c.column for c in self.columns]}"
        )


def detect_drift(
    current: pa.Table | pd.DataFrame | DatasetProfile,
    reference: pa.Table | pd.DataFrame | DatasetProfile,
    *,
    columns: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = 0.5,
) -> DriftReport:
    """Test each column of ``current`` against ``reference`` (tables or stored profiles).

    ``tests`` maps a column to one of ``ks``, ``wasserstein``, ``psi``, ``chi2``,
    ``jensenshannon``; ``thresholds`` maps a column or a test name to its threshold (a
    p-value for ``ks`` and ``chi2``, a distance otherwise). The dataset has drifted when
    the share of drifted columns among those tested reaches ``share_threshold``.
    """
    _check_share(share_threshold)
    return _compare(
        Sides(current),
        Sides(reference),
        columns=columns,
        tests=tests or {},
        thresholds=thresholds or {},
        share_threshold=share_threshold,
    )


@dataclass(frozen=True)
class ProfiledDrift:
    """A drift report with the profiles of both sides, which its HTML page is drawn from."""

    report: DriftReport
    reference: DatasetProfile
    current: DatasetProfile


def detect_drift_with_profiles(
    current: pa.Table | pd.DataFrame | DatasetProfile,
    reference: pa.Table | pd.DataFrame | DatasetProfile,
    *,
    columns: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = 0.5,
    bins: int = 20,
    top_k: int = 20,
) -> ProfiledDrift:
    """:func:`detect_drift` and the profiles of both sides (a profile given as a side is
    returned as is), for :func:`~noria.datasets.report_html.render_drift_html`.

    Cheaper than ``detect_drift`` plus two ``profile_table`` calls: each in-memory column
    is read and sorted once, for its test and its profile together.
    """
    _check_share(share_threshold)
    check_sizes(bins, top_k)
    cur = Sides(current, collect_profiles=True, bins=bins, top_k=top_k)
    ref = Sides(reference, collect_profiles=True, bins=bins, top_k=top_k)
    report = _compare(
        cur,
        ref,
        columns=columns,
        tests=tests or {},
        thresholds=thresholds or {},
        share_threshold=share_threshold,
    )
    return ProfiledDrift(report=report, reference=ref.profile(), current=cur.profile())


def _check_share(share_threshold: float) -> None:
    if not 0 < share_threshold <= 1:
        raise InvalidArgument(
            f"share_threshold must be in (0, 1], got {share_threshold}; 0.5 flags the "
            "dataset when half of its tested columns drift"
        )


def _compare(
    cur: Sides,
    ref: Sides,
    *,
    columns: Sequence[str] | None,
    tests: Mapping[str, str],
    thresholds: Mapping[str, float],
    share_threshold: float,
) -> DriftReport:
    from concurrent.futures import ThreadPoolExecutor

    names = _compared_columns(columns, ref.names, cur.names)
    check_overrides(names, tests, thresholds)
    # Two threads, one per core (sorting, Arrow casts and most statistics release the
    # GIL); each column's data is dropped once measured, so memory stays at two columns.
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="noria-drift") as pool:
        measured = list(pool.map(lambda name: _measure(name, ref, cur, tests), names))
    chosen = {m.column: m.test for m in measured if m.status == "tested"}
    limits = resolve_thresholds(chosen, thresholds)
    results = [_judge(m, limits[m.column]) if m.column in limits else m for m in measured]
    tested = [r for r in results if r.status == "tested"]
    drifted = sum(r.drifted for r in tested)
    share = drifted / len(tested) if tested else 0.0
    return DriftReport(
        drifted=bool(tested) and share >= share_threshold,
        drift_share=share,
        share_threshold=share_threshold,
        tested_columns=len(tested),
        drifted_columns=drifted,
        columns=results,
    )


def _compared_columns(
    requested: Sequence[str] | None, reference: list[str], current: list[str]
) -> list[str]:
    everything = reference + [name for name in current if name not in set(reference)]
    if requested is None:
        return everything
    if isinstance(requested, str):
        raise InvalidArgument(f"columns must be a list of names, got the string {requested!r}")
    unknown = [name for name in requested if name not in set(everything)]
    if unknown:
        raise NotFound(
            f"columns {unknown} are in neither the current nor the reference data; "
            f"the columns are {everything}"
        )
    return list(dict.fromkeys(requested))


def _measure(name: str, ref: Sides, cur: Sides, tests: Mapping[str, str]) -> ColumnDrift:
    """The column's statistic and p-value; its threshold and verdict come later."""
    in_ref, in_cur = name in ref.names, name in cur.names
    if not (in_ref and in_cur):
        where = "current" if in_ref else "reference"
        return _untested(
            name,
            ref.kind(name) if in_ref else cur.kind(name),
            "missing_in_current" if in_ref else "missing_in_reference",
            f"column {name!r} is missing from the {where} data",
        )
    reference, current = ref.side(name), cur.side(name)
    choice = choose_test(name, reference, current, tests)
    if choice is None:
        message = f"{reference.kind} columns are not tested for drift"
        return _untested(name, reference.kind, "not_tested", message)
    if choice.status != "tested":
        return _untested(name, reference.kind, choice.status, choice.problem or "")
    score = score_column(reference, current, choice.test)
    return ColumnDrift(
        column=name,
        test=choice.test,
        statistic=score.statistic,
        p_value=score.p_value,
        threshold=None,
        drifted=False,
        kind=reference.kind,
        reference_count=reference.count,
        current_count=current.count,
        approximate=reference.approximate or current.approximate,
        message=score.note,
    )


def _judge(measured: ColumnDrift, threshold: float) -> ColumnDrift:
    score = Score(measured.statistic or 0.0, measured.p_value)
    drifted, severity = score.verdict(threshold)
    return measured.model_copy(
        update={"threshold": threshold, "drifted": drifted, "severity": severity}
    )


def _untested(name: str, kind: str, status: Status, message: str) -> ColumnDrift:
    return ColumnDrift(
        column=name,
        test="none",
        statistic=None,
        p_value=None,
        threshold=None,
        drifted=False,
        kind=kind,
        status=status,
        message=message,
    )
