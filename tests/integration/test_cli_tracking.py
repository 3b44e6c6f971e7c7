"""`noria experiments …` and `noria runs …` end to end."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from noria.client import connect
from noria.settings import Settings
from tests.integration.test_cli import assert_one_line_error, noria


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    with connect(Settings(home=home)) as client:
        for index, model in enumerate(["xgb", "rf", "xgb"]):
            with client.tracker.start_run(experiment="credit", name=f"run{index}") as run:
                run.log_params({"model": model, "depth": 3 + index})
                run.log_metrics({"auc": 0.7 + index / 20, "loss": math.nan if index == 1 else 0.3})
    return home


def test_experiments_create_list_delete_restore(home: Path) -> None:
    created = noria(home, "experiments", "create", "churn", "--json").json()
    names = [e["name"] for e in noria(home, "experiments", "list", "--json").json()["experiments"]]
    assert {"credit", "churn", "Default"} <= set(names)
    assert_one_line_error(noria(home, "experiments", "create", "churn"), "churn")
    assert noria(home, "experiments", "delete", "churn").code == 0
    listed = noria(home, "experiments", "list", "--view", "deleted_only", "--json").json()
    assert [e["id"] for e in listed["experiments"]] == [created["id"]]
    assert noria(home, "experiments", "restore", created["id"]).code == 0
    assert_one_line_error(noria(home, "experiments", "delete", "nope"), "'nope'")


def test_runs_list_search_show_compare(home: Path) -> None:
    runs = noria(home, "runs", "list", "-e", "credit", "--json").json()["runs"]
    # Newest first; runs started in the same millisecond tie and keep id order, as in MLflow.
    newest_first = sorted(runs, key=lambda run: (-run["start_time"], run["id"]))
    assert runs == newest_first and {run["name"] for run in runs} == {"run0", "run1", "run2"}
    found = noria(
        home,
        "runs",
        "search",
        "params.model = 'xgb'",
        "-e",
        "credit",
        "--order-by",
        "metrics.auc ASC",
        "--json",
    ).json()["runs"]
    assert [run["name"] for run in found] == ["run0", "run2"]

    nan_run = next(run for run in runs if run["name"] == "run1")
    shown = noria(home, "runs", "show", nan_run["id"], "--json").json()
    assert shown["params"] == {"model": "rf", "depth": "4"}
    assert shown["metrics"]["loss"]["value"] == "nan"
    human = noria(home, "runs", "show", nan_run["id"]).out
    assert "model" in human and "nan" in human

    ids = [run["id"] for run in runs]
    compared = noria(home, "runs", "compare", *ids, "--json").json()
    assert compared["differing_params"] == ["depth", "model"]
    table = noria(home, "runs", "compare", *ids).out
    assert "* model" in table and "0.75" in table


def test_runs_errors_are_one_line(home: Path) -> None:
    assert_one_line_error(
        noria(home, "runs", "search", "metrics.auc >> 1", "-e", "credit"), "position 14"
    )
    assert_one_line_error(noria(home, "runs", "show", "nope"), "'nope'")
    assert_one_line_error(noria(home, "runs", "compare", "a"), "at least two")
    assert_one_line_error(noria(home, "runs", "list", "-e", "nowhere"), "'nowhere'")


def test_runs_delete_and_restore(home: Path) -> None:
    first = noria(home, "runs", "list", "-e", "credit", "--json").json()["runs"][0]["id"]
    assert noria(home, "runs", "delete", first).code == 0
    remaining = noria(home, "runs", "list", "-e", "credit", "--json").json()["runs"]
    assert first not in [run["id"] for run in remaining]
    assert noria(home, "runs", "restore", first).code == 0
    assert len(noria(home, "runs", "list", "-e", "credit", "--json").json()["runs"]) == 3
