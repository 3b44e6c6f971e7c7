"""`noria ci` end to end in a tiny project, run as a CI job runs it (docs/ci.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from noria.client import connect
from noria.datasets.schema import infer_schema
from noria.datasets.schema_yaml import schema_to_yaml
from noria.settings import Settings
from tests.integration.test_cli import Result, assert_one_line_error

FLOWS = """
    import noria
    import pandas as pd
    from sklearn.linear_model import LogisticRegression


    @noria.step
    def load(path: str, sample: int = 0) -> pd.DataFrame:
        frame = pd.read_csv(path)
        return frame.head(sample) if sample else frame


    @noria.step
    def train(frame: pd.DataFrame, c: float = 1.0) -> LogisticRegression:
        return LogisticRegression(C=c).fit(frame.drop(columns="label"), frame["label"])


    @noria.step
    def fail(frame: pd.DataFrame) -> LogisticRegression:
        raise ValueError("the training data is empty")


    @noria.pipeline
    def training(path: str = "data/train.csv", sample: int = 0, c: float = 1.0):
        train(load(path, sample), c=c)


    @noria.pipeline
    def cyclic(path: str = "data/train.csv"):
        frame = load.with_options(after=["train"])(path)
        train(frame)


    @noria.pipeline
    def broken(path: str = "data/train.csv"):
        fail(load(path))
"""

PASSING = """
    lint:
      - flows/train.py:training
    validate:
      - data: data/train.csv
        schema: schemas/train.yaml
    run:
      - pipeline: flows.train:training
        gate:
          policy: gate.yaml
          data: data/holdout.csv
          label: label
          model: train
"""

FAILING = """
    lint:
      - flows/train.py:training
      - flows/train.py:cyclic
    validate:
      - data: data/bad.csv
        schema: schemas/train.yaml
    run:
      - pipeline: flows.train:training
        params: {sample: 200}
        gate: {policy: strict-gate.yaml, data: data/holdout.csv, label: label}
      - pipeline: flows.train:broken
        gate: {policy: gate.yaml, data: data/holdout.csv, label: label}
"""


def _frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    label = ((x1 + x2 + rng.normal(scale=0.5, size=rows)) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "label": label})


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ci-project")
    (root / "flows").mkdir()
    (root / "flows" / "__init__.py").write_text("")
    (root / "flows" / "train.py").write_text(textwrap.dedent(FLOWS))
    (root / "data").mkdir()
    rng = np.random.default_rng(7)
    train = _frame(rng, 1500)
    train.to_csv(root / "data" / "train.csv", index=False)
    _frame(rng, 200).to_csv(root / "data" / "holdout.csv", index=False)
    _frame(rng, 50).assign(x1="n/a").to_csv(root / "data" / "bad.csv", index=False)
    (root / "schemas").mkdir()
    (root / "schemas" / "train.yaml").write_text(schema_to_yaml(infer_schema(train)))
    (root / "gate.yaml").write_text("rules:\n  - accuracy >= 0.7\n  - roc_auc >= 0.75\n")
    (root / "strict-gate.yaml").write_text("rules:\n  - accuracy >= 0.999\n")
    (root / "noria-ci.yaml").write_text(textwrap.dedent(PASSING))
    (root / "noria-ci-failing.yaml").write_text(textwrap.dedent(FAILING))
    return root


def ci(project: Path, home: Path, *args: str) -> Result:
    """`noria ci …` from the project folder, as the documented CI jobs run it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    env["NORIA_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "noria.cli.main", "ci", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def cases(report: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    return {
        (case.get("classname", ""), case.get("name", "")): case for case in root.iter("testcase")
    }


def test_a_passing_configuration(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = ci(project, home, "--junit", "reports/noria-ci.xml", "--param", "sample=1000")
    assert result.code == 0, result.out + result.err
    assert "CI passed: 4 passed" in result.out
    report = project / "reports" / "noria-ci.xml"
    found = cases(report)
    assert set(found) == {
        ("noria.ci.lint", "flows/train.py:training"),
        ("noria.ci.validate", "data/train.csv against schemas/train.yaml"),
        ("noria.ci.run", "flows.train:training"),
        ("noria.ci.gate", "flows.train:training"),
    }
    for case in found.values():
        assert list(case) == [] or [child.tag for child in case] == ["system-out"]
    gate_out = found[("noria.ci.gate", "flows.train:training")].findtext("system-out") or ""
    assert "pass  accuracy >= 0.7" in gate_out
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "0", "0")
    with connect(Settings(home=home, user="tester")) as client:
        [run] = client.metadata.pipelines.list_runs(pipeline="training").items
        assert run.params["sample"] == 1000  # the --param override reached the run


def test_a_failing_configuration(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = ci(project, home, "-c", "noria-ci-failing.yaml", "--junit", "failing.xml")
    assert result.code == 1, result.out + result.err
    assert "CI failed" in result.out
    found = cases(project / "failing.xml")
    outcome = {key: [child.tag for child in case] for key, case in found.items()}
    assert outcome == {
        ("noria.ci.lint", "flows/train.py:training"): [],
        ("noria.ci.lint", "flows/train.py:cyclic"): ["failure"],
        ("noria.ci.validate", "data/bad.csv against schemas/train.yaml"): ["failure"],
        ("noria.ci.run", "flows.train:training"): ["system-out"],
        ("noria.ci.gate", "flows.train:training"): ["failure", "system-out"],
        ("noria.ci.run", "flows.train:broken"): ["failure", "system-out"],
        ("noria.ci.gate", "flows.train:broken"): ["skipped"],
    }

    def message(group: str, name: str) -> str:
        element = found[(f"noria.ci.{group}", name)].find("./*")
        assert element is not None
        return element.get("message", "")

    assert "the steps form a cycle" in message("lint", "flows/train.py:cyclic")
    assert "column 'x1'" in message("validate", "data/bad.csv against schemas/train.yaml")
    assert "accuracy >= 0.999" in message("gate", "flows.train:training")
    assert "the training data is empty" in message("run", "flows.train:broken")
    root = ET.parse(project / "failing.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "4", "1")


def test_checks_given_as_flags(project: Path, tmp_path: Path) -> None:
    result = ci(
        project, tmp_path / "home", "--lint", "flows/train.py:cyclic",
        "--validate", "data/train.csv=schemas/train.yaml", "--json",
    )  # fmt: skip
    assert result.code == 1, result.err
    body = result.json()
    assert body["ok"] is False
    assert [(c["group"], c["outcome"]) for c in body["cases"]] == [
        ("lint", "failed"),
        ("validate", "passed"),
    ]


def test_mistakes_are_one_line_errors(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(ci(empty, tmp_path / "home"), "Nothing to check", "noria-ci.yaml")
    (empty / "noria-ci.yaml").write_text(
        "run:\n  - pipeline: flows.train:training\n    gates: {}\n"
    )
    assert_one_line_error(ci(empty, tmp_path / "home"), "noria-ci.yaml, run.0.gates", "docs/ci.md")
