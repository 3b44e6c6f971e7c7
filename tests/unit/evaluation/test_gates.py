"""Gates: better passes, worse fails, equal is within noise, the first model meets thresholds."""

from __future__ import annotations

import json

import pytest

from noria.errors import InvalidArgument
from noria.evaluation.evaluate import evaluate_predictor
from noria.evaluation.gates import check_gate, parse_gate_policy
from noria.evaluation.results import EvaluationResult

from .conftest import Contest

POLICY = parse_gate_policy(
    """\
rules:
  - roc_auc >= 0.70
  - roc_auc >= champion.roc_auc - 0.005
  - log_loss <= champion.log_loss
"""
)


@pytest.fixture(scope="module")
def results(contest: Contest) -> dict[str, EvaluationResult]:
    return {
        name: evaluate_predictor(model, contest.data, label="label", explain=False)
        for name, model in (
            ("strong", contest.strong),
            ("twin", contest.twin),
            ("weak", contest.weak),
        )
    }


def test_a_clearly_better_candidate_passes(results: dict[str, EvaluationResult]) -> None:
    verdict = check_gate(POLICY, results["strong"], results["weak"])
    assert verdict.passed
    assert [rule.verdict for rule in verdict.rules] == ["pass", "pass", "pass"]
    comparison = verdict.rules[1]
    assert comparison.kind == "champion"
    assert comparison.champion == results["weak"].metrics["roc_auc"]
    assert comparison.threshold == pytest.approx(results["weak"].metrics["roc_auc"] - 0.005)
    assert comparison.difference == pytest.approx(
        results["strong"].metrics["roc_auc"] - results["weak"].metrics["roc_auc"], abs=1e-12
    )
    low, high, difference = comparison.ci_low, comparison.ci_high, comparison.difference
    assert low is not None and high is not None and difference is not None
    assert -0.005 < low < difference < high


def test_a_clearly_worse_candidate_fails(results: dict[str, EvaluationResult]) -> None:
    verdict = check_gate(POLICY, results["weak"], results["strong"])
    assert not verdict.passed
    assert [rule.verdict for rule in verdict.rules] == ["fail", "fail", "fail"]
    assert verdict.rules[2].ci_low is not None and verdict.rules[2].ci_low > 0  # worse log loss
    assert "FAIL" in verdict.summary() and verdict.summary().endswith("gate FAILED")


def test_an_equal_candidate_is_reported_within_noise(results: dict[str, EvaluationResult]) -> None:
    strict = parse_gate_policy(
        "rules:\n  - roc_auc >= champion.roc_auc\n  - log_loss <= champion.log_loss\n"
    )
    verdict = check_gate(strict, results["twin"], results["strong"])
    assert [rule.verdict for rule in verdict.rules] == ["within_noise", "within_noise"]
    for rule in verdict.rules:
        assert rule.ci_low is not None and rule.ci_high is not None
        assert rule.ci_low < 0 < rule.ci_high
    assert verdict.passed  # within noise passes by default, marked as such
    assert "NOISE" in verdict.summary()
    failing = strict.model_copy(update={"within_noise": "fail"})
    assert not check_gate(failing, results["twin"], results["strong"]).passed


def test_the_very_same_model_meets_a_tolerance_but_not_a_strict_improvement(
    results: dict[str, EvaluationResult],
) -> None:
    same = results["strong"]
    tolerant = check_gate(POLICY, same, same)
    assert tolerant.rules[1].verdict == "pass"  # difference exactly 0, margin -0.005
    assert (tolerant.rules[1].ci_low, tolerant.rules[1].ci_high) == (0.0, 0.0)
    better = parse_gate_policy("rules:\n  - roc_auc > champion.roc_auc + 0.01\n")
    assert check_gate(better, same, same).rules[0].verdict == "fail"


def test_the_first_model_is_gated_on_thresholds_only(results: dict[str, EvaluationResult]) -> None:
    verdict = check_gate(POLICY, results["strong"])
    assert verdict.passed and not verdict.champion_compared
    assert [rule.verdict for rule in verdict.rules] == ["pass", "skipped", "skipped"]
    assert verdict.rules[1].note == "no champion: comparison skipped"
    assert not check_gate(POLICY, results["weak"]).passed  # its roc_auc misses 0.70
    json.dumps(verdict.to_dict())


def test_the_bootstrap_is_deterministic_with_random_state(
    results: dict[str, EvaluationResult],
) -> None:
    def interval(seed: int) -> tuple[float | None, float | None]:
        rule = check_gate(POLICY, results["twin"], results["strong"], random_state=seed).rules[1]
        return rule.ci_low, rule.ci_high

    assert interval(5) == interval(5)
    assert interval(5) != interval(6)


def test_a_candidate_without_probabilities_fails_probability_rules(contest: Contest) -> None:
    class LabelsOnly:
        def predict(self, frame):  # type: ignore[no-untyped-def]
            return contest.strong.predict(frame)

    labels_only = evaluate_predictor(
        LabelsOnly(), contest.data, label="label", task="classification", explain=False
    )
    verdict = check_gate(parse_gate_policy("rules: [roc_auc >= 0.5, accuracy >= 0.5]"), labels_only)
    assert [rule.verdict for rule in verdict.rules] == ["fail", "pass"]
    assert verdict.rules[0].note is not None and "no roc_auc" in verdict.rules[0].note


def test_mismatched_inputs_are_refused(
    contest: Contest, results: dict[str, EvaluationResult]
) -> None:
    other_data = evaluate_predictor(
        contest.strong, contest.data.iloc[:1500], label="label", explain=False
    )
    with pytest.raises(InvalidArgument, match="evaluated on different data"):
        check_gate(POLICY, results["strong"], other_data)
    read_back = EvaluationResult.model_validate(results["weak"].to_dict())
    with pytest.raises(
        InvalidArgument, match="champion's evaluation carries no per-row predictions"
    ):
        check_gate(POLICY, results["strong"], read_back)
    with pytest.raises(InvalidArgument, match="line 1: rule 'rmse <= 3' uses a regression metric"):
        check_gate(parse_gate_policy("rules: [rmse <= 3]"), results["strong"])
    with pytest.raises(InvalidArgument, match="confidence must lie strictly between 0 and 1"):
        check_gate(POLICY, results["strong"], confidence=95)
