"""Statistics profiles: values checked against numpy/pandas, edge cases, Parquet inputs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from noria.datasets.profile_engine import profile_source
from noria.datasets.profile_sql import arrow_source
from noria.datasets.profiles import (
    CATEGORY_LIMIT,
    GRID_POINTS,
    DatasetProfile,
    profile_parquet,
    profile_table,
)
from noria.errors import InvalidArgument, NotFound

PROBABILITIES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


def _frame(rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(10, 3, rows),
            "small": rng.integers(0, 7, rows),
            "city": rng.choice(["paris", "lima", "oslo"], rows, p=[0.5, 0.3, 0.2]),
            "flag": rng.random(rows) < 0.25,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 99, rows), "D"),
        }
    )


def test_numeric_statistics_match_numpy() -> None:
    frame = _frame()
    column = profile_table(frame).column("x")
    values = frame["x"].to_numpy()
    assert column.kind == "numeric" and column.arrow_type == "double"
    assert (column.count, column.null_count) == (3000, 0)
    assert column.mean == pytest.approx(values.mean(), rel=1e-12)
    assert column.std == pytest.approx(values.std(), rel=1e-9)
    assert (column.min, column.max) == (values.min(), values.max())
    assert column.quantiles is not None
    expected = np.quantile(values, PROBABILITIES)
    assert list(column.quantiles.values()) == pytest.approx(expected, rel=1e-12)
    assert column.histogram is not None
    counts, edges = np.histogram(values, bins=20)
    assert column.histogram.counts == counts.tolist()
    assert column.histogram.edges == pytest.approx(edges.tolist())
    assert column.distribution is not None and not column.distribution.exact
    assert len(column.distribution.values) == GRID_POINTS
    assert column.distinct_estimate == 3000 and column.distinct_exact


def test_few_distinct_numbers_keep_exact_counts() -> None:
    frame = _frame()
    column = profile_table(frame).column("small")
    assert column.distribution is not None and column.distribution.exact
    values, counts = np.unique(frame["small"], return_counts=True)
    assert column.distribution.values == values.tolist()
    assert column.distribution.counts == counts.tolist()
    assert column.distinct_estimate == 7


def test_categorical_boolean_and_datetime_columns() -> None:
    frame = _frame()
    profile = profile_table(frame, top_k=2)
    city = profile.column("city")
    expected = frame["city"].value_counts()
    assert city.kind == "categorical"
    assert city.top_values == [(str(k), int(v)) for k, v in expected.items()][:2]
    assert city.categories is not None and city.categories.other_count == 0
    assert city.distinct_estimate == 3
    flag = profile.column("flag")
    assert flag.kind == "boolean"
    assert dict(flag.top_values) == {
        "true": int(frame["flag"].sum()),
        "false": int((~frame["flag"]).sum()),
    }
    when = profile.column("when")
    assert when.kind == "datetime"
    assert when.min == str(frame["when"].min()) and when.max == str(frame["when"].max())


def test_nulls_nan_and_infinities_are_counted_apart() -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan, np.inf, -np.inf, 3.0, None]})
    column = profile_table(frame).column("x")
    assert (column.count, column.null_count, column.infinite_count) == (2, 2, 2)
    assert (column.mean, column.min, column.max) == (2.0, 1.0, 3.0)


def test_empty_table_all_null_and_constant_columns() -> None:
    empty = profile_table(
        pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())})
    )
    assert empty.row_count == 0
    assert [c.count for c in empty.columns] == [0, 0]
    assert empty.column("x").mean is None and empty.column("x").distribution is None

    table = pa.table({"none": pa.array([None, None], pa.float64()), "k": [5.0, 5.0]})
    profile = profile_table(table)
    assert profile.column("none").null_count == 2 and profile.column("none").mean is None
    constant = profile.column("k")
    assert (constant.std, constant.min, constant.max) == (0.0, 5.0, 5.0)
    assert constant.histogram is not None and constant.histogram.counts == [2]


def test_mixed_types_are_named() -> None:
    frame = pd.DataFrame({"ok": [1, 2], "mixed": [1, "two"]})
    with pytest.raises(InvalidArgument, match="'mixed' mixes value types"):
        profile_table(frame)
    with pytest.raises(InvalidArgument, match=r"pyarrow\.Table or pandas\.DataFrame"):
        profile_table([1, 2, 3])  # type: ignore[arg-type]


def test_category_counts_are_capped_with_other(tmp_path: Path) -> None:
    labels = [f"v{i:05d}" for i in range(CATEGORY_LIMIT + 200)] + ["common"] * 50
    table = pa.table({"s": labels})
    column = profile_table(table).column("s")
    assert column.categories is not None
    assert len(column.categories.values) == CATEGORY_LIMIT
    assert column.categories.values[0] == ("common", 50)
    assert column.categories.other_count == len(labels) - 50 - (CATEGORY_LIMIT - 1)
    # In memory every value is counted; DuckDB streams Parquet and estimates the rest.
    assert (column.distinct_estimate, column.distinct_exact) == (CATEGORY_LIMIT + 201, True)
    pq.write_table(table, tmp_path / "labels.parquet")
    streamed = profile_parquet(tmp_path / "labels.parquet").column("s")
    assert streamed.categories == column.categories and not streamed.distinct_exact


def test_json_round_trip_and_column_lookup() -> None:
    profile = profile_table(_frame(200))
    again = DatasetProfile.from_json(profile.to_json())
    assert again == profile
    assert DatasetProfile.from_json(profile.to_json().encode()) == profile
    with pytest.raises(NotFound, match=r"no column 'nope'; its columns are \['x', 'small'"):
        profile.column("nope")
    with pytest.raises(InvalidArgument, match="not a Noria dataset profile: row_count"):
        DatasetProfile.from_json('{"columns": []}')


def test_large_column_path_sketches_quantiles_without_loading() -> None:
    frame = _frame(5000)
    exact = profile_table(frame).column("x")
    sketched = profile_table(frame, exact_quantile_limit=100).column("x")
    assert sketched.distribution is not None and sketched.distribution.approximate_quantiles
    assert sketched.quantiles is not None and exact.quantiles is not None
    for label, value in exact.quantiles.items():
        assert sketched.quantiles[label] == pytest.approx(value, abs=0.1), label
    assert sketched.histogram is not None and exact.histogram is not None
    assert sum(sketched.histogram.counts) == 5000
    assert sketched.histogram.counts == pytest.approx(exact.histogram.counts, abs=2)
    small = profile_table(frame, exact_quantile_limit=100).column("small")
    assert small.distribution == profile_table(frame).column("small").distribution


def test_parquet_file_folder_glob_and_list_agree_with_table(tmp_path: Path) -> None:
    frame = _frame(1000)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    (tmp_path / "parts").mkdir()
    pq.write_table(table.slice(0, 600), tmp_path / "parts" / "a.parquet")
    pq.write_table(table.slice(600), tmp_path / "parts" / "b.parquet")
    messages: list[str] = []
    from_folder = profile_parquet(tmp_path / "parts", progress=messages.append)
    expected = profile_table(table)
    assert from_folder.row_count == 1000
    assert from_folder.column("x").distribution == expected.column("x").distribution
    assert from_folder.column("city").categories == expected.column("city").categories
    assert any("scanning 5 columns" in message for message in messages)
    from_glob = profile_parquet(str(tmp_path / "parts" / "*.parquet"))
    from_list = profile_parquet(
        [tmp_path / "parts" / "a.parquet", tmp_path / "parts" / "b.parquet"]
    )
    assert from_glob == from_list == from_folder


def test_bad_parquet_paths(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such Parquet file or folder"):
        profile_parquet(tmp_path / "missing.parquet")
    with pytest.raises(NotFound, match="matches no file"):
        profile_parquet(str(tmp_path / "*.parquet"))
    not_parquet = tmp_path / "data.parquet"
    not_parquet.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidArgument, match="not a readable Parquet file"):
        profile_parquet(not_parquet)
    with pytest.raises(InvalidArgument, match="bins must be between"):
        profile_table(pa.table({"x": [1.0]}), bins=0)


def _every_kind(rows: int = 1200) -> pa.Table:
    """Each type the in-memory engine reads, with nulls, NaN and infinities, and a
    decimal column (which DuckDB profiles)."""
    rng = np.random.default_rng(3)

    def holes(values: list[object], every: int = 7) -> list[object]:
        return [None if i % every == 0 else value for i, value in enumerate(values)]

    x = rng.normal(5, 2, rows)
    x[3], x[5], x[8] = np.nan, np.inf, -np.inf
    quarter = rows // 4
    return pa.table(
        {
            "x": pa.array(holes(x.tolist(), 11), pa.float64()),
            "f32": pa.array(rng.normal(size=rows).astype(np.float32)),
            "i": pa.array(holes(rng.integers(-5, 5, rows).tolist()), pa.int64()),
            "huge": pa.array([2**60 + 1, 3] * (rows // 2), pa.int64()),
            "u8": pa.array(rng.integers(0, 200, rows).astype(np.uint8)),
            "s": pa.array(holes(rng.choice(["b", "a", "c", "é"], rows).tolist())),
            "d": pa.array(holes(rng.choice(["x", "y"], rows).tolist())).dictionary_encode(),
            "ls": pa.array(rng.choice(["p", "q"], rows).tolist(), pa.large_string()),
            "flag": pa.array(holes((rng.random(rows) < 0.3).tolist())),
            "ms": pa.array(holes(rng.integers(0, 10**12, rows).tolist()), pa.timestamp("ms")),
            "ns_tz": pa.array(
                rng.integers(-(10**15), 10**15, rows).tolist(), pa.timestamp("ns", tz="Asia/Tokyo")
            ),
            "day": pa.array(holes(rng.integers(-1000, 1000, rows).tolist()), pa.date32()),
            "blob": pa.array([b"a", b"bb", None, b"a"] * quarter),
            "wait": pa.array(rng.integers(0, 50, rows).tolist(), pa.duration("s")),
            "nothing": pa.nulls(rows),
            "price": pa.array(
                [Decimal("1.10"), None, Decimal("-2.25"), Decimal("3.00")] * quarter,
                pa.decimal128(6, 2),
            ),
        }
    )


def test_in_memory_profiles_equal_duckdb_profiles() -> None:
    table = _every_kind()
    with arrow_source(table) as source:
        by_duckdb = profile_source(source, bins=20, top_k=20, exact_quantile_limit=10**9)
    in_memory = profile_table(table)
    assert in_memory.row_count == by_duckdb.row_count == 1200
    grid = in_memory.column("x").distribution  # over 1,000 values: a quantile grid
    assert grid is not None and not grid.exact
    ignore = {"distinct_estimate": 0, "distinct_exact": False}
    for mine, theirs in zip(in_memory.columns, by_duckdb.columns, strict=True):
        if mine.kind in ("datetime", "other") and mine.count:
            # DuckDB estimates these distinct counts (HyperLogLog); here they are counted.
            assert mine.distinct_exact and not theirs.distinct_exact
            assert abs(mine.distinct_estimate - theirs.distinct_estimate) <= 0.05 * mine.count + 1
            assert mine.model_copy(update=ignore) == theirs.model_copy(update=ignore)
        else:
            assert mine == theirs, mine.name
    assert in_memory.column("ns_tz").min is not None
    assert str(in_memory.column("ns_tz").min).endswith("+00")  # written in UTC


def test_in_memory_tables_never_start_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_duckdb() -> None:
        raise AssertionError("DuckDB was started for an in-memory table")

    monkeypatch.setattr("noria.datasets.profile_sql._connection", no_duckdb)
    frame = _frame(500)
    assert profile_table(frame).column("x").count == 500
    assert profile_table(pa.Table.from_pandas(frame)).column("city").distinct_estimate == 3
    with pytest.raises(AssertionError, match="DuckDB was started"):
        profile_table(_every_kind().select(["price"]))  # decimals are DuckDB's


def test_string_views_and_duplicate_names() -> None:
    labels = ["b", None, "a", "b"]
    view = profile_table(pa.table({"s": pa.array(labels, pa.string_view())})).column("s")
    plain = profile_table(pa.table({"s": pa.array(labels)})).column("s")
    assert view.categories == plain.categories
    assert (view.count, view.null_count) == (3, 1)
    twice = pa.table([pa.array([1.0]), pa.array([2.0])], names=["a", "a"])
    with pytest.raises(InvalidArgument, match=r"duplicate column names \['a'\]"):
        profile_table(twice)


def test_chunked_columns_profile_as_one_array() -> None:
    x = [1.5, None, float("inf"), 3.0, float("nan"), 2.0, 2.0]
    s = ["a", None, "b", "a", "c", None, "a"]
    chunked = pa.table(
        {"x": pa.chunked_array([x[:2], x[2:], []]), "s": pa.chunked_array([s[:4], s[4:]])}
    )
    whole = pa.table({"x": x, "s": s})
    assert profile_table(chunked) == profile_table(whole)
    column = profile_table(chunked).column("x")
    assert (column.count, column.null_count, column.infinite_count) == (4, 2, 1)
