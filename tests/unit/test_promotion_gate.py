"""The challenge's gate text: a file or YAML, and the default "not worse than the champion"."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.errors import InvalidArgument
from noria.evaluation.gates import parse_gate_policy
from noria.evaluation.results import EvaluationResult
from noria.promotion.gating import default_gate, gate_text


def result(task: str, metrics: dict[str, float]) -> EvaluationResult:
    return EvaluationResult(task=task, label="y", rows=10, data_digest="d", metrics=metrics)  # type: ignore[arg-type]


def test_the_default_gate_compares_the_main_metric_with_the_champion() -> None:
    with_proba = default_gate(result("classification", {"roc_auc": 0.9, "f1": 0.8}))
    assert with_proba.splitlines()[1] == "  - roc_auc >= champion.roc_auc"
    labels_only = default_gate(result("classification", {"f1": 0.8, "accuracy": 0.9}))
    assert "f1 >= champion.f1" in labels_only
    regression = default_gate(result("regression", {"rmse": 1.0, "r2": 0.5}))
    assert "rmse <= champion.rmse" in regression
    assert parse_gate_policy(regression).within_noise == "pass"
    with pytest.raises(InvalidArgument, match="pass a gate policy"):
        default_gate(result("classification", {"log_loss": 0.3}))


def test_gate_text_reads_a_file_or_takes_yaml(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text("rules:\n  - accuracy >= 0.5\n")
    assert gate_text(path) == gate_text(str(path)) == path.read_text()
    assert gate_text("rules: [accuracy >= 0.5]") == "rules: [accuracy >= 0.5]"
    assert gate_text(None) is None
    with pytest.raises(InvalidArgument, match=r"Cannot read the gate policy .*absent\.yaml"):
        gate_text(str(tmp_path / "absent.yaml"))
