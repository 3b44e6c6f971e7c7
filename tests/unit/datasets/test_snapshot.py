"""Sources open as Arrow batches; snapshots hash content, not how it arrived."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from noria.datasets import sources
from noria.datasets.snapshot import Snapshot, write_snapshot
from noria.datasets.sources import SqlQuery, open_source, read_table
from noria.domain.datasets import SourceType
from noria.errors import InvalidArgument, NotFound


def frame(rows: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(50_000, 9_000, rows).round(2),
            "city": rng.choice(["Lyon", "Oslo", "Lima"], rows),
            "vip": rng.random(rows) > 0.8,
        }
    )


def snap(source: object, tmp_path: Path, name: str = "out.parquet") -> Snapshot:
    return write_snapshot(open_source(source), tmp_path / name)


def test_same_rows_give_one_digest_whatever_the_source(tmp_path: Path) -> None:
    data = frame()
    data.to_csv(tmp_path / "d.csv", index=False)
    data.to_parquet(tmp_path / "d.parquet", index=False, row_group_size=137)
    table = pa.Table.from_pandas(data, preserve_index=False)
    rebatched = pa.Table.from_batches(table.to_batches(max_chunksize=97))
    digests = {
        snap(data, tmp_path, "a.parquet").digest,
        snap(tmp_path / "d.csv", tmp_path, "b.parquet").digest,
        snap(tmp_path / "d.parquet", tmp_path, "c.parquet").digest,
        snap(rebatched, tmp_path, "e.parquet").digest,
        snap(data.set_index("age", drop=False), tmp_path, "f.parquet").digest,
    }
    assert len(digests) == 1


def test_one_changed_value_changes_the_digest(tmp_path: Path) -> None:
    data = frame()
    changed = data.copy()
    changed.loc[500, "income"] += 0.01
    assert snap(data, tmp_path, "a.parquet").digest != snap(changed, tmp_path, "b.parquet").digest


def test_snapshot_round_trips_rows_and_records_columns(tmp_path: Path) -> None:
    data = frame(200_000)  # several canonical chunks
    result = snap(data, tmp_path)
    assert result.row_count == 200_000
    assert [c.name for c in result.columns] == ["age", "income", "city", "vip"]
    assert [c.type for c in result.columns] == ["int64", "double", "string", "bool"]
    back = pq.read_table(result.path).to_pandas()
    pd.testing.assert_frame_equal(back, data, check_dtype=False)
    assert result.size_bytes == result.path.stat().st_size


def test_categoricals_are_stored_as_their_values(tmp_path: Path) -> None:
    data = frame(50)
    as_category = data.assign(city=data["city"].astype("category"))
    assert (
        snap(as_category, tmp_path, "a.parquet").digest == snap(data, tmp_path, "b.parquet").digest
    )


def test_empty_and_nameless_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="has no rows: there is nothing to version"):
        snap(frame().iloc[0:0], tmp_path)
    with pytest.raises(InvalidArgument, match="no columns"):
        snap(pd.DataFrame(index=range(3)), tmp_path)
    duplicated = pa.table([pa.array([1]), pa.array([2])], names=["a", "a"])
    with pytest.raises(InvalidArgument, match="'a' appear more than once"):
        snap(duplicated, tmp_path)


def test_mixed_type_dataframe_column_is_named(tmp_path: Path) -> None:
    mixed = pd.DataFrame({"ok": [1, 2, 3], "code": [1, "two", 3.0]}, dtype=object)
    mixed["ok"] = mixed["ok"].astype(int)
    with pytest.raises(
        InvalidArgument, match=r"Column 'code' mixes value types \(float, int, str\)"
    ):
        snap(mixed, tmp_path)


def test_mixed_type_csv_column_far_down_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_CSV_BLOCK_BYTES", 1024)  # type inferred from 1 KiB
    lines = ["id,score"] + [f"{i},{i * 2}" for i in range(2000)] + ["2001,not-a-number"]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidArgument) as caught:
        snap(path, tmp_path)
    message = str(caught.value)
    assert str(path) in message and "not-a-number" in message and "mixes value types" in message
    assert "\n" not in message


def test_unreadable_paths_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        open_source(tmp_path / "nope.csv")
    (tmp_path / "notes.xlsx").write_text("x")
    with pytest.raises(InvalidArgument, match=r"Cannot tell the format .*\*\.csv"):
        open_source(tmp_path / "notes.xlsx")
    (tmp_path / "fake.parquet").write_text("this is not parquet")
    with pytest.raises(InvalidArgument, match=r"fake\.parquet is not readable as Parquet"):
        snap(tmp_path / "fake.parquet", tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgument, match="holds no Parquet files"):
        open_source(tmp_path / "empty")
    with pytest.raises(InvalidArgument, match="Cannot ingest a list"):
        open_source([1, 2, 3])


def test_parquet_folder_and_tsv_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    data = frame(300)
    data.iloc[:100].to_parquet(folder / "part-0.parquet", index=False)
    data.iloc[100:].to_parquet(folder / "part-1.parquet", index=False)
    opened = open_source(folder)
    assert opened.source_type is SourceType.PARQUET
    assert read_table(folder).num_rows == 300
    data.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    assert read_table(tmp_path / "d.tsv").column_names == ["age", "income", "city", "vip"]


def test_sql_query_source(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER, total REAL, city TEXT)")
        connection.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)", [(i, i * 1.5, "Oslo") for i in range(50)]
        )
    opened = open_source(SqlQuery(f"sqlite:///{db}", "SELECT * FROM orders WHERE id < 10"))
    assert opened.source_type is SourceType.SQL
    assert "SELECT * FROM orders" in opened.description
    assert read_table(SqlQuery(f"sqlite:///{db}", "SELECT id FROM orders")).num_rows == 50
    with pytest.raises(InvalidArgument, match="The SQL query failed"):
        open_source(SqlQuery(f"sqlite:///{db}", "SELECT * FROM missing"))
    with pytest.raises(InvalidArgument, match="Invalid SQL source URL"):
        open_source(SqlQuery("nonsense://", "SELECT 1"))
