"""Batch scoring with a real scikit-learn model logged through Noria: chunked, one output per
input, through the CLI, and on a real local Ray."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import noria
from noria.client import connect
from noria.errors import AlreadyExists, InvalidArgument, NotFound
from noria.serving.batch import (
    BatchPlan,
    FileScore,
    ScoringOptions,
    model_folder,
    predict_batch,
    run_batch,
)
from noria.settings import Settings
from tests.conftest import require_service
from tests.integration.test_cli import assert_one_line_error
from tests.integration.test_cli import noria as noria_cli

URI = "models:/iris-batch/1"
ROWS_PER_FILE = 1_000
BATCH_ROWS = 256


@dataclass(frozen=True)
class Logged:
    home: Path
    model: LogisticRegression
    folder: Path  # three Parquet files of ROWS_PER_FILE rows, with an extra 'id' column
    model_dir: Path


def _features() -> pd.DataFrame:
    return load_iris(as_frame=True).frame.drop(columns=["target"])


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    root = tmp_path_factory.mktemp("batch")
    home = root / "home"
    frame = load_iris(as_frame=True).frame
    features, label = frame.drop(columns=["target"]), frame["target"]
    model = LogisticRegression(max_iter=500).fit(features, label)
    with connect(Settings(home=home, user="tester")) as client:
        previous = noria.set_default_client(client)
        try:
            with noria.start_run(experiment="batch"):
                noria.log_model(
                    model, "model", input_example=features.head(5),
                    registered_model_name="iris-batch",
                )  # fmt: skip
            model_dir = model_folder(URI, client=client)
        finally:
            noria.set_default_client(previous)
    folder = root / "inputs"
    (folder / "nested").mkdir(parents=True)
    rng = np.random.default_rng(7)
    for index, name in enumerate(["a.parquet", "b.parquet", "nested/c.parquet"]):
        rows = features.iloc[rng.integers(0, len(features), ROWS_PER_FILE)].reset_index(drop=True)
        rows.insert(0, "id", np.arange(ROWS_PER_FILE) + index * ROWS_PER_FILE)
        rows.to_parquet(folder / name, index=False, row_group_size=300)  # groups ≠ chunks
    (folder / "_SUCCESS").write_text("")  # markers and hidden files are not inputs
    yield Logged(home, model, folder, model_dir)


def _check_outputs(logged: Logged, output: Path, files: list[FileScore]) -> None:
    names = sorted(path.relative_to(output).as_posix() for path in output.rglob("*.parquet"))
    assert names == ["a.parquet", "b.parquet", "nested/c.parquet"]
    assert sorted(f.output for f in files) == [output / name for name in names]
    for name in names:
        scored = pq.read_table(output / name).to_pandas()
        source = pd.read_parquet(logged.folder / name)
        assert list(scored.columns) == [*source.columns, "prediction"]
        assert scored["id"].tolist() == source["id"].tolist()
        expected = logged.model.predict(source.drop(columns=["id"]))
        np.testing.assert_array_equal(scored["prediction"].to_numpy(), expected)


def test_a_folder_is_scored_in_bounded_chunks(logged: Logged, tmp_path: Path) -> None:
    output = tmp_path / "scores"
    chunks: list[int] = []
    files: list[FileScore] = []
    plan = BatchPlan.of(logged.folder, output)
    assert plan.total_rows == 3 * ROWS_PER_FILE  # from the Parquet footers, before scoring
    score = run_batch(
        logged.model_dir, plan, ScoringOptions(batch_rows=BATCH_ROWS),
        on_rows=chunks.append, on_file=files.append,
    )  # fmt: skip
    # Every predict call saw at most BATCH_ROWS rows, whatever the files' row groups were.
    assert chunks == [256, 256, 256, 232] * 3
    assert [f.chunks for f in files] == [4, 4, 4] and score.rows == 3 * ROWS_PER_FILE
    _check_outputs(logged, output, files)
    with pytest.raises(AlreadyExists, match="--overwrite"):
        BatchPlan.of(logged.folder, output)
    assert BatchPlan.of(logged.folder, output, overwrite=True).total_rows == 3 * ROWS_PER_FILE


def test_csv_with_probabilities_through_the_sdk(logged: Logged, tmp_path: Path) -> None:
    source = tmp_path / "iris.csv"
    _features().to_csv(source, index=False)
    with connect(Settings(home=logged.home, user="tester")) as client:
        score = predict_batch(URI, source, tmp_path / "out.parquet", client=client, proba=True)
    assert score.rows == 150 and score.files[0].chunks == 1
    scored = pq.read_table(tmp_path / "out.parquet")
    expected = logged.model.predict_proba(_features())
    np.testing.assert_allclose(np.array(scored["proba"].to_pylist()), expected)


def test_problems_are_found_before_any_row_is_scored(logged: Logged, tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    _features().to_parquet(folder / "good.parquet")
    _features().drop(columns=["petal width (cm)"]).to_parquet(folder / "lacking.parquet")
    with pytest.raises(InvalidArgument, match=r"lacking.parquet lacks column\(s\) \['petal width"):
        predict_batch(logged.model_dir, folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # the good file was not scored either

    (folder / "lacking.parquet").unlink()
    bad_values = _features().astype({"sepal length (cm)": str})
    bad_values.loc[3, "sepal length (cm)"] = "wide"
    bad_values.to_parquet(folder / "text.parquet")
    with pytest.raises(InvalidArgument, match=r"text.parquet \(rows 1 to 150\).*sepal length"):
        predict_batch(logged.model_dir, folder, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*text*"))  # no half-written output is left
    with pytest.raises(NotFound, match="neither a model URI"):
        predict_batch(tmp_path, folder, tmp_path / "out2")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFound, match="holds no Parquet"):
        predict_batch(logged.model_dir, tmp_path / "empty", tmp_path / "out3")


def test_the_cli_scores_with_progress_and_one_line_errors(logged: Logged, tmp_path: Path) -> None:
    out = tmp_path / "scores"
    done = noria_cli(
        logged.home, "predict", URI, "--input", str(logged.folder), "--output", str(out),
        "--batch-rows", "300",
    )  # fmt: skip
    assert done.code == 0, done.err
    assert done.out.startswith("Scored 3,000 rows from 3 files in ") and str(out) in done.out
    as_json = noria_cli(
        logged.home, "predict", URI, "-i", str(logged.folder / "a.parquet"),
        "-o", str(out / "a.parquet"), "--overwrite", "--json", "--batch-rows", "300",
    )  # fmt: skip
    assert as_json.json()["files"][0]["chunks"] == 4 and as_json.json()["rows"] == ROWS_PER_FILE

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    lacking = tmp_path / "lacking.csv"
    _features().drop(columns=["sepal width (cm)"]).to_csv(lacking, index=False)
    for arguments, fragments in [
        (["-i", str(tmp_path / "absent.parquet")], ["absent.parquet does not exist"]),
        (["-i", str(broken)], ["broken.parquet is not readable as Parquet"]),
        (["-i", str(lacking)], ["lacks column(s) ['sepal width (cm)']"]),
        (["-i", str(logged.folder / "a.parquet"), "--executor", "dask"], ["Unknown --executor"]),
    ]:
        result = noria_cli(logged.home, "predict", URI, *arguments, "-o", str(tmp_path / "o.pq"))
        assert_one_line_error(result, *fragments)
    exists = noria_cli(
        logged.home, "predict", URI, "-i", str(logged.folder), "-o", str(out)
    )  # fmt: skip
    assert_one_line_error(exists, "already exists; pass --overwrite")


@pytest.mark.slow
def test_ray_scores_each_file_as_a_task(logged: Logged, tmp_path: Path) -> None:
    try:
        import ray
    except ImportError as exc:
        require_service("Ray", f"ray is not installed ({exc}): pip install 'noria[ray]'")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        output = tmp_path / "scores"
        files: list[FileScore] = []
        rows: list[int] = []
        plan = BatchPlan.of(logged.folder, output)
        score = run_batch(
            logged.model_dir, plan, ScoringOptions(batch_rows=BATCH_ROWS), executor="ray",
            on_rows=rows.append, on_file=files.append,
        )  # fmt: skip
        assert score.rows == 3 * ROWS_PER_FILE and sorted(rows) == [ROWS_PER_FILE] * 3
        assert [f.chunks for f in files] == [4, 4, 4]
        _check_outputs(logged, output, files)

        bad = tmp_path / "bad"
        bad.mkdir()
        broken = _features().astype({"petal length (cm)": str})
        broken.loc[0, "petal length (cm)"] = "long"
        broken.to_parquet(bad / "x.parquet")
        with pytest.raises(InvalidArgument, match=r"x.parquet \(rows 1 to 150\).*petal length"):
            run_batch(
                logged.model_dir, BatchPlan.of(bad, tmp_path / "bad-out"), ScoringOptions(),
                executor="ray",
            )  # fmt: skip
    finally:
        ray.shutdown()
