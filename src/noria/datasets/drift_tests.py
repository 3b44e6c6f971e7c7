"""The drift statistics, computed from distributions rather than rows, and the choice
of test and threshold for each column.

Numeric samples are :class:`~noria.datasets.profile_cdf.CdfModel` s; on exact samples
KS and Wasserstein equal SciPy's on the raw values (see that module for grids).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from noria.datasets.profile_cdf import cdf_gaps
from noria.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from noria.datasets.profile_cdf import CdfModel
    from noria.datasets.profile_sides import ColumnSide

    Floats = npt.NDArray[np.float64]

SCIPY_EXACT_KS_LIMIT = 10_000  # ks_2samp(method="auto") is exact up to this sample size
PSI_BINS = 10
PSI_FLOOR = 1e-4  # an empty bin counts as this share, so that PSI stays finite
FEW_VALUES = 10  # a reference with at most this many values is binned by value
BLOCK = 1 << 16  # values per block where a sum would otherwise need a full-length array


def _union(a: CdfModel, b: CdfModel) -> Floats:
    import numpy as np

    return np.union1d(a.knots, b.knots)


def ks_test(reference: CdfModel, current: CdfModel) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov: ``(D, p-value)`` as ``scipy.stats.ks_2samp``."""
    import numpy as np
    from scipy import stats

    both_exact = reference.exact and current.exact
    if both_exact and max(reference.count, current.count) <= SCIPY_EXACT_KS_LIMIT:
        with warnings.catch_warnings():
            # SciPy falls back to the asymptotic p-value with a warning when its
            # exact recursion fails; that fallback is the answer either way.
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ks_2samp(reference.expanded(), current.expanded())
        return float(result.statistic), float(result.pvalue)
    if both_exact:
        _, gaps = cdf_gaps(reference, current)
        statistic = float(np.abs(gaps, out=gaps).max())
    else:
        points = _union(reference, current)
        right = np.abs(reference.cdf(points) - current.cdf(points))
        left = np.abs(reference.cdf_left(points) - current.cdf_left(points))
        statistic = float(max(right.max(), left.max()))
    big, small = sorted([float(reference.count), float(current.count)], reverse=True)
    effective = np.round(big * small / (big + small))
    p_value = float(np.clip(stats.kstwo.sf(statistic, effective), 0.0, 1.0))
    return statistic, p_value


def wasserstein(reference: CdfModel, current: CdfModel) -> float:
    """First Wasserstein distance ``∫|F_ref - F_cur| dx`` (``scipy.stats.wasserstein_distance``)."""
    import numpy as np

    if reference.exact and current.exact:
        return _exact_wasserstein(reference, current)
    points = _union(reference, current)
    if len(points) < 2:
        return 0.0
    start = reference.cdf(points[:-1]) - current.cdf(points[:-1])
    end = reference.cdf_left(points[1:]) - current.cdf_left(points[1:])
    width = np.diff(points)
    same_sign = start * end >= 0
    magnitude = np.abs(start) + np.abs(end)
    crossing = (start**2 + end**2) / (2 * np.where(magnitude > 0, magnitude, 1.0))
    area = width * np.where(same_sign, magnitude / 2, crossing)
    return float(area.sum())


def _exact_wasserstein(reference: CdfModel, current: CdfModel) -> float:
    """``∑ |F_ref - F_cur| · width`` over the merged values, a block at a time (no third
    array as long as the merged values)."""
    import numpy as np

    points, gaps = cdf_gaps(reference, current)
    total = 0.0
    for first in range(0, len(points) - 1, BLOCK):
        last = min(first + BLOCK, len(points) - 1)
        areas = np.diff(points[first : last + 1])
        areas *= gaps[first:last]
        total += float(np.abs(areas, out=areas).sum())
    return total


def bin_edges(reference: CdfModel, bins: int = PSI_BINS) -> Floats:
    """Inner bin edges: every reference value when there are few, else its quantiles."""
    import numpy as np

    if reference.exact and len(reference.knots) <= FEW_VALUES:
        return reference.knots[:-1] if len(reference.knots) > 1 else reference.knots
    probabilities = np.arange(1, bins, dtype=np.float64) / bins
    return np.unique(reference.quantile(probabilities))


def bin_shares(model: CdfModel, edges: Floats) -> Floats:
    """Share of the sample in ``(-inf, e1], (e1, e2], …, (e_last, inf)``."""
    import numpy as np

    return np.diff(np.concatenate([[0.0], model.cdf(edges), [1.0]]))


def psi(reference: CdfModel, current: CdfModel, bins: int = PSI_BINS) -> float:
    """Population stability index on the reference's quantile bins."""
    import numpy as np

    edges = bin_edges(reference, bins)
    ref = np.maximum(bin_shares(reference, edges), PSI_FLOOR)
    cur = np.maximum(bin_shares(current, edges), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def chi2_test(reference: Floats, current: Floats) -> tuple[float, float]:
    """Chi-square test of homogeneity on aligned counts, as ``scipy.stats.chi2_contingency``
    (Yates's correction when there are two categories); only ``scipy.special`` is loaded."""
    import numpy as np
    from scipy.special import chdtrc

    observed = np.vstack([reference, current])
    observed = observed[:, observed.sum(axis=0) > 0]
    if observed.shape[1] < 2 or min(observed.sum(axis=1)) == 0:
        return 0.0, 1.0
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    freedom = observed.shape[1] - 1
    if freedom == 1:  # Yates: move each count half a unit towards its expectation
        gap = expected - observed
        observed = observed + np.sign(gap) * np.minimum(0.5, np.abs(gap))
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, float(chdtrc(freedom, statistic))


def jensenshannon(reference: Floats, current: Floats) -> float:
    """Jensen-Shannon distance (natural log) of two count vectors, as SciPy's."""
    p = reference / reference.sum()
    q = current / current.sum()
    m = (p + q) / 2
    divergence = (_relative_entropy(p, m) + _relative_entropy(q, m)) / 2
    return math.sqrt(max(divergence, 0.0))


def _relative_entropy(p: Floats, m: Floats) -> float:
    """``sum(scipy.special.rel_entr(p, m))`` where ``m >= p / 2`` (so ``m > 0`` wherever
    ``p > 0``), in numpy: importing scipy.special costs more than the whole test."""
    import numpy as np

    present = p > 0
    return float(np.sum(p[present] * np.log(p[present] / m[present])))


def numeric_counts(reference: CdfModel, current: CdfModel) -> tuple[Floats, Floats]:
    """Counts of both samples on the reference's bins, for chi-square and JS on numbers."""
    import numpy as np

    edges = bin_edges(reference)
    ref = bin_shares(reference, edges) * reference.count
    cur = bin_shares(current, edges) * current.count
    if reference.exact and current.exact:
        return np.rint(ref), np.rint(cur)
    return ref, cur


def aligned_categories(
    reference: Mapping[str, int], ref_other: int, current: Mapping[str, int], cur_other: int
) -> tuple[list[str], Floats, Floats]:
    """Both sides' counts on one list of categories.

    A side whose counts were capped (``other > 0``) cannot tell how often a category it
    did not keep occurred, so such categories are pooled into ``other`` on both sides.
    """
    import numpy as np

    labels: list[str] = []
    ref_counts: list[float] = []
    cur_counts: list[float] = []
    pooled_ref, pooled_cur = float(ref_other), float(cur_other)
    for label in sorted(set(reference) | set(current)):
        unknown = (label not in reference and ref_other) or (label not in current and cur_other)
        if unknown:
            pooled_ref += reference.get(label, 0)
            pooled_cur += current.get(label, 0)
            continue
        labels.append(label)
        ref_counts.append(reference.get(label, 0))
        cur_counts.append(current.get(label, 0))
    if pooled_ref or pooled_cur:
        labels.append("(other)")
        ref_counts.append(pooled_ref)
        cur_counts.append(pooled_cur)
    return labels, np.array(ref_counts), np.array(cur_counts)


def psi_of_counts(reference: Floats, current: Floats) -> float:
    """PSI of two count vectors on the same categories."""
    import numpy as np

    ref = np.maximum(reference / reference.sum(), PSI_FLOOR)
    cur = np.maximum(current / current.sum(), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


# --- choosing and scoring a column's test -------------------------------------------

TESTS = ("ks", "wasserstein", "psi", "chi2", "jensenshannon")
P_VALUE_TESTS = frozenset({"ks", "chi2"})
NUMERIC_ONLY_TESTS = frozenset({"ks", "wasserstein"})
DEFAULT_THRESHOLDS = {"ks": 0.05, "chi2": 0.05, "wasserstein": 0.1, "psi": 0.1}
DEFAULT_THRESHOLDS["jensenshannon"] = 0.1
SMALL_REFERENCE = 1000  # up to this many reference values: p-value tests, else distances
FEW_DISTINCT = 5  # numeric columns with at most this many values are tested as categories
SEVERITY_CAP = 1e6
KIND_FAMILY = {"numeric": "numeric", "categorical": "categories", "boolean": "categories"}


@dataclass(frozen=True)
class Choice:
    """The test for one column, or why it cannot be tested."""

    test: str = "none"
    status: Literal["tested", "kind_mismatch", "no_values"] = "tested"
    problem: str | None = None


@dataclass(frozen=True)
class Score:
    statistic: float
    p_value: float | None
    note: str | None = None

    def verdict(self, threshold: float) -> tuple[bool, float]:
        """``(drifted, severity)``; severity ≥ 1 exactly when drifted."""
        if self.p_value is not None:
            severity = math.log(max(self.p_value, 1e-300)) / math.log(threshold)
            return self.p_value < threshold, min(severity, SEVERITY_CAP)
        return self.statistic >= threshold, min(self.statistic / threshold, SEVERITY_CAP)


def default_test(reference: ColumnSide) -> str | None:
    """Evidently's defaults: by type, by size, and numbers with few values as categories."""
    small = reference.count <= SMALL_REFERENCE
    if reference.kind == "numeric" and reference.distinct > FEW_DISTINCT:
        return "ks" if small else "wasserstein"
    if reference.kind in KIND_FAMILY:
        return "chi2" if small else "jensenshannon"
    return None


def check_overrides(
    names: Sequence[str], tests: Mapping[str, str], thresholds: Mapping[str, float]
) -> None:
    """Reject unknown columns, tests and threshold keys before any work."""
    unknown = sorted(set(tests) - set(names))
    if unknown:
        raise NotFound(
            f"tests name columns {unknown} that are not compared; columns: {list(names)}"
        )
    for column, test in tests.items():
        if test not in TESTS:
            raise InvalidArgument(
                f"unknown drift test {test!r} for column {column!r}; use one of {list(TESTS)}"
            )
    for key, value in thresholds.items():
        if key not in names and key not in TESTS:
            raise InvalidArgument(
                f"threshold key {key!r} is neither a compared column nor a test "
                f"({list(TESTS)}); compared columns: {list(names)}"
            )
        if not (value > 0 and math.isfinite(value)):
            raise InvalidArgument(f"threshold for {key!r} must be a positive number, got {value}")


def choose_test(
    name: str, ref: ColumnSide, cur: ColumnSide, tests: Mapping[str, str]
) -> Choice | None:
    """The override or the default test; None for kinds that are not tested."""
    if KIND_FAMILY.get(ref.kind, ref.kind) != KIND_FAMILY.get(cur.kind, cur.kind):
        return Choice(
            status="kind_mismatch",
            problem=f"column {name!r} is {ref.kind} in the reference but {cur.kind} now",
        )
    test = tests.get(name) or default_test(ref)
    if test is None:
        return None
    if test in NUMERIC_ONLY_TESTS and ref.kind != "numeric":
        raise InvalidArgument(
            f"test {test!r} needs numbers but column {name!r} is {ref.kind}; "
            "use chi2, jensenshannon or psi"
        )
    if not (ref.count and cur.count):
        side = "reference" if not ref.count else "current"
        return Choice(status="no_values", problem=f"column {name!r} has no values in the {side}")
    return Choice(test=test)


def resolve_thresholds(
    tests: Mapping[str, str], overrides: Mapping[str, float]
) -> dict[str, float]:
    """Each tested column's threshold: its own override, its test's, or the default.

    Default p-value thresholds are Bonferroni-corrected over the columns that use them.
    """
    corrected = [
        name
        for name, test in tests.items()
        if test in P_VALUE_TESTS and name not in overrides and test not in overrides
    ]
    thresholds = {}
    for name, test in tests.items():
        threshold = overrides.get(name, overrides.get(test))
        if threshold is None:
            threshold = DEFAULT_THRESHOLDS[test] / (len(corrected) if name in corrected else 1)
        elif test in P_VALUE_TESTS and threshold >= 1:
            raise InvalidArgument(
                f"column {name!r} uses {test!r}, whose threshold is a p-value in (0, 1); "
                f"got {threshold}"
            )
        thresholds[name] = float(threshold)
    return thresholds


def _counts(ref: ColumnSide, cur: ColumnSide) -> tuple[Floats, Floats]:
    if ref.model is not None and cur.model is not None:
        return numeric_counts(ref.model, cur.model)
    _, ref_counts, cur_counts = aligned_categories(
        ref.categories or {}, ref.other_count, cur.categories or {}, cur.other_count
    )
    return ref_counts, cur_counts


def _models(ref: ColumnSide, cur: ColumnSide) -> tuple[CdfModel, CdfModel]:
    if ref.model is None or cur.model is None:
        raise InvalidArgument("KS and Wasserstein need numeric columns on both sides")
    return ref.model, cur.model


def _normalised_wasserstein(ref: ColumnSide, cur: ColumnSide) -> Score:
    distance = wasserstein(*_models(ref, cur))
    if ref.std:
        return Score(distance / ref.std, None)
    scale = max(abs(ref.mean or 0.0), 1.0)
    return Score(
        distance / scale, None, f"the reference is constant; distance divided by {scale:g}"
    )


def score_column(ref: ColumnSide, cur: ColumnSide, test: str) -> Score:
    """Run one test on one column's two sides."""
    if test == "ks":
        return Score(*ks_test(*_models(ref, cur)))
    if test == "wasserstein":
        return _normalised_wasserstein(ref, cur)
    if test == "psi" and ref.model is not None and cur.model is not None:
        return Score(psi(ref.model, cur.model), None)
    if test == "psi":
        return Score(psi_of_counts(*_counts(ref, cur)), None)
    if test == "chi2":
        return Score(*chi2_test(*_counts(ref, cur)))
    return Score(jensenshannon(*_counts(ref, cur)), None)
