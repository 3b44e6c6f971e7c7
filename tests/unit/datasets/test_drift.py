"""detect_drift: planted drift on real data, profile references, overrides and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_diabetes

from noria.datasets.drift import detect_drift, detect_drift_with_profiles
from noria.datasets.profiles import DatasetProfile, profile_table
from noria.errors import InvalidArgument, NotFound

SHIFTED = "mean radius"


def _halves(frame: pd.DataFrame, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    return (
        frame.iloc[order[:half]].reset_index(drop=True),
        frame.iloc[order[half:]].reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame


def _flagged(report: object) -> list[str]:
    return [c.column for c in report.columns if c.drifted]  # type: ignore[attr-defined]


def test_random_halves_of_real_data_do_not_drift(cancer: pd.DataFrame) -> None:
    reference, current = _halves(cancer)
    report = detect_drift(current, reference)
    assert _flagged(report) == []
    assert report.tested_columns == cancer.shape[1] and not report.drifted
    # A numeric feature gets KS on this small data; the 0/1 target is tested as categories.
    assert report.column(SHIFTED).test == "ks"
    assert report.column("target").test == "chi2"


def test_a_shifted_column_of_real_data_is_the_only_one_flagged(cancer: pd.DataFrame) -> None:
    reference, current = _halves(cancer)
    current[SHIFTED] = current[SHIFTED] + 0.5 * reference[SHIFTED].std()
    report = detect_drift(current, reference)
    assert _flagged(report) == [SHIFTED]
    assert report.by_severity()[0].column == SHIFTED
    expected = stats.ks_2samp(reference[SHIFTED], current[SHIFTED])
    column = report.column(SHIFTED)
    assert (column.statistic, column.p_value) == pytest.approx(
        (expected.statistic, expected.pvalue), rel=1e-9
    )
    assert report.drift_share == pytest.approx(1 / cancer.shape[1])


def test_stored_profiles_give_the_same_report_as_the_rows(cancer: pd.DataFrame) -> None:
    reference, current = _halves(cancer)
    current[SHIFTED] = current[SHIFTED] * 1.2
    from_rows = detect_drift(current, reference)
    stored = DatasetProfile.from_json(profile_table(reference).to_json())
    from_profile = detect_drift(current, stored)
    both_profiles = detect_drift(profile_table(current), stored)
    for report in (from_profile, both_profiles):
        assert _flagged(report) == _flagged(from_rows) == [SHIFTED]
        for mine, rows in zip(report.columns, from_rows.columns, strict=True):
            assert mine.statistic == pytest.approx(rows.statistic, rel=1e-9)
            assert mine.p_value == pytest.approx(rows.p_value, rel=1e-9)


def test_large_data_uses_distances_and_a_grid_profile_reference() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(0, 2, 50_000), "c": rng.choice(list("abc"), 50_000)})
    current = pd.DataFrame({"x": rng.normal(0.5, 2, 40_000), "c": rng.choice(list("abd"), 40_000)})
    from_rows = detect_drift(current, reference)
    from_profile = detect_drift(current, profile_table(reference))
    x_rows, x_profile = from_rows.column("x"), from_profile.column("x")
    assert x_rows.test == "wasserstein" and from_rows.column("c").test == "jensenshannon"
    expected = stats.wasserstein_distance(reference["x"], current["x"]) / np.std(reference["x"])
    assert x_rows.statistic == pytest.approx(expected, rel=1e-9)
    assert x_profile.approximate and not x_rows.approximate
    assert x_profile.statistic == pytest.approx(expected, rel=0.01)
    assert from_profile.column("c").statistic == pytest.approx(from_rows.column("c").statistic)
    assert _flagged(from_rows) == _flagged(from_profile) == ["x", "c"]
    assert from_rows.drifted and from_rows.drift_share == 1.0


def test_diabetes_binary_column_and_overrides() -> None:
    frame: pd.DataFrame = load_diabetes(as_frame=True, scaled=False).frame
    reference, current = _halves(frame, seed=3)
    report = detect_drift(
        current,
        reference,
        columns=["sex", "bmi", "age"],
        tests={"bmi": "psi", "age": "jensenshannon"},
        thresholds={"psi": 0.5, "age": 0.9},
    )
    assert [c.column for c in report.columns] == ["sex", "bmi", "age"]
    assert [c.test for c in report.columns] == ["chi2", "psi", "jensenshannon"]
    assert [c.threshold for c in report.columns] == [0.05, 0.5, 0.9]
    assert _flagged(report) == []


def test_default_p_value_thresholds_are_bonferroni_corrected() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=200) for i in range(4)})
    report = detect_drift(frame, frame, thresholds={"x3": 0.01})
    assert [c.threshold for c in report.columns] == [0.05 / 3] * 3 + [0.01]


def test_edge_cases_are_reported_not_raised() -> None:
    reference = pa.table(
        {
            "gone": [1.0, 2.0, 3.0],
            "nulls": pa.array([1.0, 2.0, 3.0]),
            "constant": [4.0, 4.0, 4.0],
            "kind": [1.0, 2.0, 3.0],
            "when": pa.array([1, 2, 3], pa.timestamp("s")),
        }
    )
    current = pa.table(
        {
            "nulls": pa.array([None, None], pa.float64()),
            "constant": [4.0, 4.0],
            "kind": ["a", "b"],
            "when": pa.array([1, 2], pa.timestamp("s")),
            "new": [1, 2],
        }
    )
    report = detect_drift(current, reference, tests={"constant": "wasserstein"})
    status = {c.column: c.status for c in report.columns}
    assert status == {
        "gone": "missing_in_current",
        "nulls": "no_values",
        "constant": "tested",
        "kind": "kind_mismatch",
        "when": "not_tested",
        "new": "missing_in_reference",
    }
    assert report.column("constant").statistic == 0.0 and not report.column("constant").drifted
    assert "missing from the current data" in (report.column("gone").message or "")
    assert report.tested_columns == 1 and report.drift_share == 0.0
    shifted = detect_drift(
        pa.table({"constant": [4.0, 6.0]}),
        reference,
        columns=["constant"],
        tests={"constant": "wasserstein"},
    )
    assert shifted.column("constant").drifted
    assert "reference is constant" in (shifted.column("constant").message or "")


def test_empty_tables() -> None:
    empty = pa.table({"x": pa.array([], pa.float64())})
    report = detect_drift(empty, empty)
    assert report.column("x").status == "no_values"
    assert not report.drifted and report.drift_share == 0.0
    assert detect_drift(pa.table({}), pa.table({})).columns == []


def test_json_shape_for_the_cli(cancer: pd.DataFrame) -> None:
    reference, current = _halves(cancer)
    shape = detect_drift(current, reference, columns=[SHIFTED]).to_dict()
    assert {"drifted", "drift_share", "columns"} <= set(shape)
    assert list(shape["columns"][0])[:6] == [
        "column",
        "test",
        "statistic",
        "p_value",
        "threshold",
        "drifted",
    ]


def test_bad_arguments_are_named() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    with pytest.raises(NotFound, match=r"columns \['y'\] are in neither"):
        detect_drift(frame, frame, columns=["y"])
    with pytest.raises(InvalidArgument, match="unknown drift test 'tt'"):
        detect_drift(frame, frame, tests={"x": "tt"})
    with pytest.raises(InvalidArgument, match="test 'ks' needs numbers but column 's'"):
        detect_drift(frame, frame, tests={"s": "ks"})
    with pytest.raises(InvalidArgument, match="threshold key 'zz'"):
        detect_drift(frame, frame, thresholds={"zz": 0.1})
    with pytest.raises(InvalidArgument, match="p-value in"):
        detect_drift(frame, frame, thresholds={"x": 2.0})
    with pytest.raises(InvalidArgument, match="share_threshold"):
        detect_drift(frame, frame, share_threshold=0)
    mixed = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": [1, "b", 2.5]})
    with pytest.raises(InvalidArgument, match="column 's' mixes value types"):
        detect_drift(mixed, frame)


def test_drift_with_profiles_equals_drift_and_two_profiles(
    cancer: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_duckdb() -> None:
        raise AssertionError("DuckDB was started for in-memory tables")

    monkeypatch.setattr("noria.datasets.profile_sql._connection", no_duckdb)
    reference, current = _halves(cancer)
    current[SHIFTED] = current[SHIFTED] * 1.2
    reference["city"] = np.where(np.arange(len(reference)) % 3 == 0, "lima", "oslo")
    both = detect_drift_with_profiles(current, reference, columns=[SHIFTED, "target", "city"])
    assert both.report == detect_drift(current, reference, columns=[SHIFTED, "target", "city"])
    assert both.reference == profile_table(reference)  # every column, not only those tested
    assert both.current == profile_table(current)
    assert both.report.column("city").status == "missing_in_current"
    stored = profile_table(reference)
    from_profile = detect_drift_with_profiles(pa.Table.from_pandas(current), stored, bins=5)
    assert from_profile.reference is stored
    assert from_profile.report == detect_drift(current, stored)
    histogram = from_profile.current.column(SHIFTED).histogram
    assert histogram is not None and len(histogram.counts) == 5
    with pytest.raises(InvalidArgument, match="bins must be between"):
        detect_drift_with_profiles(current, reference, bins=0)
