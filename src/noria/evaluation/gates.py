"""Promotion gates: does a candidate model meet a policy, alone and against the champion?

Threshold rules (``roc_auc >= 0.80``) compare the candidate's metric with a number.
Comparison rules (``roc_auc >= champion.roc_auc - 0.005``) are about the difference
``candidate - champion`` on the same evaluation rows: the rule holds when the
difference meets the margin (here ``>= -0.005``). A paired bootstrap gives the
difference a confidence interval, and each comparison gets a verdict:

- ``pass``: the whole interval lies on the side of the margin the rule asks for;
- ``fail``: the whole interval lies on the other side;
- ``within_noise``: the interval contains the margin, so the data cannot tell. It
  counts as passed unless the policy says ``within_noise: fail``, and is always marked.

Without a champion (the first model) comparison rules are ``skipped`` and the gate is
decided by the thresholds alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from noria.errors import InvalidArgument
from noria.evaluation.bootstrap import check_bootstrap_settings, paired_difference
from noria.evaluation.gate_yaml import GatePolicy, GateRule, Operator, parse_gate_policy
from noria.evaluation.metrics import metric_task
from noria.evaluation.results import EvaluationResult

__all__ = [
    "GatePolicy",
    "GateRule",
    "GateVerdict",
    "RuleResult",
    "check_gate",
    "parse_gate_policy",
]

Verdict = Literal["pass", "fail", "within_noise", "skipped"]


@dataclass(frozen=True)
class _Bootstrap:
    resamples: int
    confidence: float
    seed: int


class RuleResult(BaseModel):
    """One rule's figures. For comparisons ``threshold`` is the champion's value plus the
    margin, and ``difference``, ``ci_low`` and ``ci_high`` describe candidate - champion."""

    model_config = ConfigDict(frozen=True)

    rule: str
    line: int | None
    metric: str
    kind: Literal["threshold", "champion"]
    verdict: Verdict
    passed: bool
    observed: float | None = None
    threshold: float | None = None
    champion: float | None = None
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str | None = None


class GateVerdict(BaseModel):
    """``passed`` when every rule passed (``within_noise`` per the policy, ``skipped`` always)."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    rules: list[RuleResult]
    champion_compared: bool
    confidence: float
    n_bootstrap: int

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def summary(self) -> str:
        """One line per rule, then the decision: what a CLI prints."""
        lines = [_summary_line(result) for result in self.rules]
        lines.append(f"gate {'passed' if self.passed else 'FAILED'}")
        return "\n".join(lines)


def check_gate(
    policy: GatePolicy,
    candidate: EvaluationResult,
    champion: EvaluationResult | None = None,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> GateVerdict:
    """Judge ``candidate`` by ``policy``; comparisons need ``champion`` on the same data."""
    check_bootstrap_settings(n_bootstrap, confidence)
    _check_rules_fit(policy, candidate)
    if champion is not None and any(rule.compares_with_champion for rule in policy.rules):
        _check_comparable(candidate, champion)
    results = []
    for rule in policy.rules:
        if not rule.compares_with_champion:
            results.append(_threshold_result(rule, candidate))
        elif champion is None:
            results.append(_skipped(rule, candidate, "no champion: comparison skipped"))
        else:
            bootstrap = _Bootstrap(n_bootstrap, confidence, random_state)
            results.append(_comparison_result(rule, candidate, champion, policy, bootstrap))
    return GateVerdict(
        passed=all(result.passed for result in results),
        rules=results,
        champion_compared=champion is not None,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
    )


def _threshold_result(rule: GateRule, candidate: EvaluationResult) -> RuleResult:
    observed = candidate.metrics.get(rule.metric)
    assert rule.value is not None  # a threshold rule has a value by construction
    base = _base(rule, candidate, "threshold") | {"threshold": rule.value}
    if observed is None:
        return RuleResult(**base, verdict="fail", passed=False, note=_missing(rule.metric))
    holds = _holds(observed, rule.op, rule.value)
    return RuleResult(**base, verdict="pass" if holds else "fail", passed=holds)


def _comparison_result(
    rule: GateRule,
    candidate: EvaluationResult,
    champion: EvaluationResult,
    policy: GatePolicy,
    bootstrap: _Bootstrap,
) -> RuleResult:
    assert rule.champion_offset is not None  # a comparison rule has an offset by construction
    observed, reference = candidate.metrics.get(rule.metric), champion.metrics.get(rule.metric)
    if observed is None:
        base = _base(rule, candidate, "champion")
        return RuleResult(**base, verdict="fail", passed=False, note=_missing(rule.metric))
    if reference is None:
        return _skipped(rule, candidate, f"the champion has no {rule.metric}: comparison skipped")
    assert candidate.predictions is not None and champion.predictions is not None  # checked
    interval = paired_difference(
        candidate.predictions,
        champion.predictions,
        rule.metric,
        n_resamples=bootstrap.resamples,
        confidence=bootstrap.confidence,
        random_state=bootstrap.seed,
    )
    margin = rule.champion_offset
    if interval.low <= margin <= interval.high:
        verdict: Verdict = "within_noise"
        passed = policy.within_noise == "pass"
    else:
        # The interval lies wholly on one side of the margin; its midpoint says which.
        passed = _holds((interval.low + interval.high) / 2, rule.op, margin)
        verdict = "pass" if passed else "fail"
    return RuleResult(
        **_base(rule, candidate, "champion"),
        verdict=verdict,
        passed=passed,
        threshold=reference + margin,
        champion=reference,
        difference=interval.difference,
        ci_low=interval.low,
        ci_high=interval.high,
    )


def _skipped(rule: GateRule, candidate: EvaluationResult, note: str) -> RuleResult:
    return RuleResult(
        **_base(rule, candidate, "champion"), verdict="skipped", passed=True, note=note
    )


def _base(rule: GateRule, candidate: EvaluationResult, kind: str) -> dict[str, Any]:
    return {
        "rule": str(rule),
        "line": rule.line,
        "metric": rule.metric,
        "kind": kind,
        "observed": candidate.metrics.get(rule.metric),
    }


def _holds(value: float, op: Operator, bound: float) -> bool:
    if op == ">=":
        return value >= bound
    if op == ">":
        return value > bound
    if op == "<=":
        return value <= bound
    return value < bound


def _missing(metric: str) -> str:
    return (
        f"the candidate has no {metric} (it needs predict_proba, or is undefined on this "
        "data); the rule fails"
    )


def _check_rules_fit(policy: GatePolicy, candidate: EvaluationResult) -> None:
    for rule in policy.rules:
        if metric_task(rule.metric) != candidate.task:
            where = f"{policy.source} line {rule.line}" if rule.line else policy.source
            raise InvalidArgument(
                f"{where}: rule {str(rule)!r} uses a {metric_task(rule.metric)} metric but the "
                f"candidate is a {candidate.task} model; use metrics of its task"
            )


def _check_comparable(candidate: EvaluationResult, champion: EvaluationResult) -> None:
    if champion.task != candidate.task or champion.data_digest != candidate.data_digest:
        raise InvalidArgument(
            "the champion was evaluated on different data (digest "
            f"{champion.data_digest} vs {candidate.data_digest}); evaluate both models on "
            "the same table"
        )
    for role, result in (("candidate", candidate), ("champion", champion)):
        if result.predictions is None:
            raise InvalidArgument(
                f"the {role}'s evaluation carries no per-row predictions (it was read back "
                "from storage); evaluate it again with evaluate_predictor on the same data"
            )


def _summary_line(result: RuleResult) -> str:
    word = {"pass": "PASS", "fail": "FAIL", "within_noise": "NOISE", "skipped": "SKIP"}
    text = f"{word[result.verdict]:5} {result.rule}"
    if result.observed is not None:
        text += f": {result.observed:.4g}"
    if result.difference is not None:
        text += (
            f" (champion {result.champion:.4g}, difference {result.difference:+.4g}, "
            f"CI [{result.ci_low:+.4g}, {result.ci_high:+.4g}])"
        )
    return text + (f" — {result.note}" if result.note else "")
