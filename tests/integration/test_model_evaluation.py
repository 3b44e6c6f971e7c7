"""Evaluation and gates on registered models: first model, better, worse, equal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import noria
from noria.client import Client, connect
from noria.settings import Settings
from tests.integration.test_cli import noria as noria_cli

GATE = """rules:
  - roc_auc >= 0.80
  - roc_auc >= champion.roc_auc - 0.005
"""


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        previous = noria.set_default_client(opened)
        try:
            yield opened
        finally:
            noria.set_default_client(previous)


@pytest.fixture
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    train, holdout = train_test_split(frame, test_size=0.4, random_state=0)
    return train, holdout


def register(train: pd.DataFrame, columns: list[str], name: str = "cancer") -> int:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    features = train.drop(columns=["target"])
    # The weak model sees one feature, still fed every column through its pipeline.
    model.fit(features[columns].reindex(columns=features.columns, fill_value=0.0), train["target"])
    with noria.start_run(experiment="cancer"):
        uri = noria.log_model(model, "model", input_example=features.head(3))
    return noria.register_model(uri, name).version


def test_gates_first_better_worse_equal(
    client: Client, data: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    train, holdout = data
    every = list(train.columns.drop("target"))
    first = register(train, every)
    outcome = noria.evaluate_with_gate(
        f"models:/cancer/{first}", holdout, label="target", gate=GATE
    )
    assert outcome.verdict.passed and outcome.champion is None
    assert outcome.verdict.rules[1].verdict == "skipped"
    stored = client.registry.get_version("cancer", first)
    assert stored.gate is not None and stored.gate.passed
    noria.set_alias("cancer", "champion", first)

    worse = register(train, ["mean radius"])  # one weak feature: roc_auc drops
    outcome = noria.evaluate_with_gate(
        f"models:/cancer/{worse}", holdout, label="target", gate=GATE
    )
    assert not outcome.verdict.passed and outcome.champion_version == first
    comparison = outcome.verdict.rules[1]
    assert comparison.verdict == "fail" and comparison.difference is not None
    assert comparison.difference < 0
    assert client.registry.get_version("cancer", worse).gate.passed is False  # type: ignore[union-attr]

    same = register(train, every)  # the same model again: any difference is noise
    outcome = noria.evaluate_with_gate(
        f"models:/cancer/{same}", holdout, label="target", gate=GATE, explain=False
    )
    assert outcome.verdict.passed
    assert outcome.verdict.rules[1].verdict in ("within_noise", "pass")
    run = client.tracker.get_run(outcome.run_id)
    assert run.tags["noria.gate"] == "passed" and "roc_auc" in run.metrics
    names = {a.path for a in client.tracker.list_artifacts(outcome.run_id)}
    assert {"plots/roc.svg", "evaluation.json", "gate.json"} <= names


def test_cli_evaluate_exits_1_when_the_gate_fails(
    settings: Settings, client: Client, data: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    train, holdout = data
    every = list(train.columns.drop("target"))
    noria.set_alias("cancer", "champion", register(train, every))
    worse = register(train, ["mean radius"])
    holdout.to_parquet(tmp_path / "holdout.parquet", index=False)
    (tmp_path / "gate.yaml").write_text(GATE)
    args = ["--data", str(tmp_path / "holdout.parquet"), "--label", "target"]
    failed = noria_cli(
        settings.home, "models", "evaluate", f"models:/cancer/{worse}", *args,
        "--gate", str(tmp_path / "gate.yaml"), "--json", "--no-explain",
    )  # fmt: skip
    assert failed.code == 1, failed.err
    assert failed.json()["gate"]["passed"] is False
    plain = noria_cli(
        settings.home, "models", "evaluate", "models:/cancer@champion", *args, "--no-explain"
    )
    assert plain.code == 0 and "roc_auc" in plain.out
