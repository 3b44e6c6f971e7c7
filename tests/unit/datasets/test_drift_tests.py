"""Each drift statistic against SciPy (to 1e-9) and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance
from sklearn.datasets import load_breast_cancer, load_diabetes

from noria.datasets.drift_tests import (
    aligned_categories,
    chi2_test,
    jensenshannon,
    ks_test,
    psi,
    psi_of_counts,
    wasserstein,
)
from noria.datasets.profile_cdf import CdfModel
from noria.datasets.profile_numeric import sorted_quantiles

TOLERANCE = 1e-9
SAMPLE_SIZES = [(40, 55), (300, 500), (2_000, 9_000), (12_000, 15_000), (20_000, 30_000)]


def _pair(sizes: tuple[int, int], decimals: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, sizes[0])
    b = rng.normal(0.05, 1.1, sizes[1])
    if decimals is not None:  # ties, within and across samples
        a, b = np.round(a, decimals), np.round(b, decimals)
    return a, b


def _real_pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    pairs = []
    for name, data in (("cancer", load_breast_cancer().data), ("diabetes", load_diabetes().data)):
        half = len(data) // 2
        for column in (0, 3, 7):
            pairs.append((f"{name}[{column}]", data[:half, column], data[half:, column]))
    return pairs


@pytest.mark.parametrize("sizes", SAMPLE_SIZES)
@pytest.mark.parametrize("decimals", [None, 1])
def test_ks_and_wasserstein_match_scipy_on_random_data(
    sizes: tuple[int, int], decimals: int | None
) -> None:
    a, b = _pair(sizes, decimals, seed=sizes[0])
    ref, cur = CdfModel.from_samples(a), CdfModel.from_samples(b)
    expected = stats.ks_2samp(a, b)
    statistic, p_value = ks_test(ref, cur)
    assert statistic == pytest.approx(expected.statistic, abs=TOLERANCE)
    assert p_value == pytest.approx(expected.pvalue, rel=TOLERANCE, abs=1e-300)
    assert wasserstein(ref, cur) == pytest.approx(stats.wasserstein_distance(a, b), rel=TOLERANCE)
    assert wasserstein(cur, ref) == pytest.approx(stats.wasserstein_distance(b, a), rel=TOLERANCE)


@pytest.mark.parametrize(
    ("name", "a", "b"), _real_pairs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_ks_and_wasserstein_match_scipy_on_real_data(
    name: str, a: np.ndarray, b: np.ndarray
) -> None:
    ref, cur = CdfModel.from_samples(a), CdfModel.from_samples(b)
    expected = stats.ks_2samp(a, b)
    assert ks_test(ref, cur) == pytest.approx((expected.statistic, expected.pvalue), rel=TOLERANCE)
    assert wasserstein(ref, cur) == pytest.approx(stats.wasserstein_distance(a, b), rel=TOLERANCE)


def test_exact_value_counts_give_the_same_answers_as_raw_values() -> None:
    a, b = _pair((5_000, 20_000), 1, seed=3)
    values, counts = np.unique(a, return_counts=True)
    from_counts = CdfModel.from_counts(values.astype(float), counts.astype(float))
    raw = CdfModel.from_samples(a)
    other = CdfModel.from_samples(b)
    assert ks_test(from_counts, other) == ks_test(raw, other)
    assert wasserstein(from_counts, other) == wasserstein(raw, other)


def test_hand_computed_ks_and_wasserstein() -> None:
    ref = CdfModel.from_samples(np.array([1.0, 2.0, 3.0, 4.0]))
    cur = CdfModel.from_samples(np.array([3.0, 4.0, 5.0, 6.0]))
    # F_ref - F_cur reaches 1/2 on [2, 3) and [4, 5); every value moves by 2.
    assert ks_test(ref, cur)[0] == 0.5
    assert wasserstein(ref, cur) == pytest.approx(2.0)
    assert wasserstein(ref, ref) == 0.0


def test_cdf_model_steps_and_quantiles() -> None:
    model = CdfModel.from_samples(np.array([1.0, 1.0, 2.0, 3.0]))
    points = np.array([0.0, 1.0, 1.5, 3.0, 4.0])
    assert model.cdf(points).tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert model.cdf_left(points).tolist() == [0.0, 0.0, 0.5, 0.75, 1.0]
    assert model.quantile(np.array([0.1, 0.5, 0.6, 1.0])).tolist() == [1.0, 1.0, 2.0, 3.0]
    grid = CdfModel.from_grid(np.array([0.0, 0.0, 1.0, 2.0, 4.0]), count=100)
    # Atom of 1/4 at 0, then linear: F(0.5) = 0.25 + 0.5 * 0.25.
    assert grid.cdf_left(np.array([0.0])).tolist() == [0.0]
    assert grid.cdf(np.array([0.0, 0.5, 3.0, 9.0])).tolist() == [0.25, 0.375, 0.875, 1.0]
    assert grid.quantile(np.array([0.375, 0.875])).tolist() == pytest.approx([0.5, 3.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quantile_grids_stay_within_the_documented_bound(seed: int) -> None:
    a, b = _pair((40_000, 25_000), None, seed)
    probabilities = np.arange(1001) / 1000
    ref_grid = CdfModel.from_grid(sorted_quantiles(np.sort(a), probabilities), len(a))
    cur_grid = CdfModel.from_grid(sorted_quantiles(np.sort(b), probabilities), len(b))
    exact = stats.ks_2samp(a, b).statistic
    bound = 1 / 1000 + 1 / len(a) + 1 / len(b)
    assert abs(ks_test(ref_grid, cur_grid)[0] - exact) <= 2 * bound
    assert abs(ks_test(ref_grid, CdfModel.from_samples(b))[0] - exact) <= bound
    w = stats.wasserstein_distance(a, b)
    assert wasserstein(ref_grid, cur_grid) == pytest.approx(w, rel=0.05)


def test_psi_hand_computed() -> None:
    ref = CdfModel.from_samples(np.arange(1.0, 11.0))  # deciles 1..9: ten bins of one value
    cur = CdfModel.from_samples(np.array([1.0] * 5 + [10.0] * 5))
    shares = np.array([0.5] + [1e-4] * 8 + [0.5])
    expected = float(np.sum((shares - 0.1) * np.log(shares / 0.1)))
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-12)
    assert psi(ref, ref) == 0.0
    assert psi_of_counts(np.array([50.0, 50.0]), np.array([25.0, 75.0])) == pytest.approx(
        (0.25 - 0.5) * math.log(0.5) + (0.75 - 0.5) * math.log(1.5)
    )


def test_chi2_matches_scipy_contingency() -> None:
    rng = np.random.default_rng(7)
    ref = rng.integers(1, 500, 6).astype(float)
    cur = rng.integers(1, 500, 6).astype(float)
    expected = stats.chi2_contingency(np.vstack([ref, cur]))
    assert chi2_test(ref, cur) == pytest.approx(
        (expected.statistic, expected.pvalue), rel=TOLERANCE
    )
    # A category seen on one side only is a column of the table, not a division by zero.
    statistic, p_value = chi2_test(np.array([10.0, 0.0]), np.array([5.0, 5.0]))
    assert statistic > 0 and 0 < p_value < 1
    assert chi2_test(np.array([4.0]), np.array([9.0])) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        ([30.0, 70.0], [45.0, 55.0]),  # two categories: Yates's correction
        ([10.0, 10.2], [10.1, 10.0]),  # gaps under half a unit: corrected to zero
        ([5_000.0, 90.0], [4_000.0, 900.0]),  # a p-value far below 1e-100
        ([3.0, 0.0, 9.0, 1.0], [0.0, 0.0, 4.0, 8.0]),  # an empty category is dropped
    ],
)
def test_chi2_matches_scipy_on_two_and_more_categories(ref: list[float], cur: list[float]) -> None:
    table = np.array([ref, cur])
    expected = stats.chi2_contingency(table[:, table.sum(axis=0) > 0])
    statistic, p_value = chi2_test(np.array(ref), np.array(cur))
    assert statistic == pytest.approx(expected.statistic, rel=TOLERANCE, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=TOLERANCE, abs=1e-300)


def test_chi2_goodness_of_fit_equivalence_on_hand_values() -> None:
    # Without Yates's correction (more than 2 categories) the statistic is Pearson's.
    ref, cur = np.array([20.0, 30.0, 50.0]), np.array([30.0, 30.0, 40.0])
    expected = sum(
        (obs - exp) ** 2 / exp
        for row in (ref, cur)
        for obs, exp in zip(row, (ref + cur) * row.sum() / 200, strict=True)
    )
    assert chi2_test(ref, cur)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_jensenshannon_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 100, 8).astype(float)
    cur = rng.integers(0, 100, 8).astype(float)
    expected = distance.jensenshannon(ref / ref.sum(), cur / cur.sum())
    assert jensenshannon(ref, cur) == pytest.approx(expected, rel=TOLERANCE)
    assert jensenshannon(ref, ref) == 0.0
    ref[:3] = 0.0  # categories seen on one side only
    expected = distance.jensenshannon(ref / ref.sum(), cur / cur.sum())
    assert jensenshannon(ref, cur) == pytest.approx(expected, rel=TOLERANCE)


def test_categories_align_and_pool_what_a_capped_side_cannot_know() -> None:
    labels, ref, cur = aligned_categories({"a": 3, "b": 2}, 0, {"a": 1, "c": 5}, 0)
    assert (labels, ref.tolist(), cur.tolist()) == (["a", "b", "c"], [3, 2, 0], [1, 0, 5])
    # The current side kept only "a" and "c": its count of "b" is unknown, so "b" is pooled.
    labels, ref, cur = aligned_categories({"a": 3, "b": 2}, 0, {"a": 1, "c": 5}, 2)
    assert (labels, ref.tolist(), cur.tolist()) == (["a", "c", "(other)"], [3, 0, 2], [1, 5, 2])
