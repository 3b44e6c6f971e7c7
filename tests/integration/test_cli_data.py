"""`noria data …` end to end, as a CI job would call it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from tests.integration.test_cli import assert_one_line_error, noria


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("data")
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    frame.columns = [column.replace(" ", "_") for column in frame.columns]
    paths = {
        "reference": folder / "reference.csv",
        "same": folder / "same.parquet",
        "shifted": folder / "shifted.parquet",
        "broken": folder / "broken.csv",
    }
    frame.to_csv(paths["reference"], index=False)
    frame.to_parquet(paths["same"], index=False)
    shifted = frame.assign(mean_radius=frame["mean_radius"] + 2 * frame["mean_radius"].std())
    shifted.to_parquet(paths["shifted"], index=False)
    frame.drop(columns=["mean_texture"]).to_csv(paths["broken"], index=False)
    return paths


def test_ingest_list_show_schema(tmp_path: Path, files: dict[str, Path]) -> None:
    home = tmp_path / "home"
    ingested = noria(home, "data", "ingest", str(files["reference"]), "--name", "cancer", "--json")
    assert ingested.code == 0, ingested.err
    body = ingested.json()
    assert body["uri"] == "datasets:/cancer/1" and body["rows"] == 569
    assert set(body) >= {"uri", "digest", "rows", "columns"} and "target" in body["columns"]
    again = noria(home, "data", "ingest", str(files["same"]), "--name", "cancer")
    assert again.code == 0 and "datasets:/cancer/1" in again.out and "unchanged" in again.out

    listed = noria(home, "data", "list", "--json").json()
    assert listed["datasets"] == [{"name": "cancer", "versions": 1, "latest": 1}]
    shown = noria(home, "data", "show", "datasets:/cancer@latest", "--json").json()
    assert (shown["version"], shown["source_type"]) == (1, "csv")

    schema_file = tmp_path / "schema.yaml"
    out = noria(home, "data", "schema", "datasets:/cancer/1", "--out", str(schema_file))
    assert out.code == 0 and "mean_radius" in schema_file.read_text()
    schema_file.write_text(schema_file.read_text().replace("type: float", "type: flot", 1))
    bad = noria(home, "data", "schema", "datasets:/cancer/1", "--set", str(schema_file))
    assert_one_line_error(bad, "line", "flot")


def test_validate_profile_and_drift_gate(tmp_path: Path, files: dict[str, Path]) -> None:
    home = tmp_path / "home"
    assert noria(home, "data", "ingest", str(files["reference"]), "-n", "cancer").code == 0
    clean = noria(home, "data", "validate", str(files["same"]), "-r", "datasets:/cancer/1")
    assert clean.code == 0, clean.err
    broken = noria(
        home, "data", "validate", str(files["broken"]), "-r", "datasets:/cancer/1", "--json"
    )
    assert broken.code == 1
    anomalies = broken.json()["anomalies"]
    assert {"column": "mean_texture", "kind": "missing_column", "severity": "error"}.items() <= (
        anomalies[0].items()
    )
    assert set(anomalies[0]) >= {"column", "kind", "severity", "message", "examples"}

    profile = noria(home, "data", "profile", "datasets:/cancer/1", "--json").json()
    assert profile["row_count"] == 569

    html = tmp_path / "drift.html"
    drift = noria(
        home, "data", "drift", str(files["shifted"]), "-r", "datasets:/cancer/1",
        "--json", "--html", str(html),
    )  # fmt: skip
    assert drift.code == 0, drift.err
    report = drift.json()
    assert set(report) >= {"drifted", "drift_share", "columns"}
    flagged = [column["column"] for column in report["columns"] if column["drifted"]]
    assert flagged == ["mean_radius"]
    assert set(report["columns"][0]) >= {
        "column", "test", "statistic", "p_value", "threshold", "drifted"
    }  # fmt: skip
    assert "mean_radius" in html.read_text()
    human = noria(home, "data", "drift", str(files["same"]), "-r", "datasets:/cancer/1")
    assert human.code == 0 and "no drift" in human.out


def test_errors_are_one_line(tmp_path: Path, files: dict[str, Path]) -> None:
    home = tmp_path / "home"
    assert_one_line_error(noria(home, "data", "ingest", str(files["reference"])), "--name")
    assert_one_line_error(
        noria(home, "data", "ingest", str(tmp_path / "nope.csv"), "-n", "x"), "does not exist"
    )
    assert_one_line_error(
        noria(home, "data", "validate", str(files["same"]), "-r", "datasets:/ghost/1"), "'ghost'"
    )
    assert_one_line_error(
        noria(home, "data", "drift", str(files["same"]), "-r", "datasets:/x/1", "--test", "bad"),
        "COLUMN=TEST",
    )
