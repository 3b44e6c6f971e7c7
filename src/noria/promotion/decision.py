"""The promotion decision: pure rules over the figures the prediction log gave.

Each rule of a :class:`~noria.domain.deployments.PromotionPolicy` ends in one of three
states: it holds, it is decided against the challenger, or the data cannot decide yet
(too few rows or labels). Any rule decided against → ``reject``; else any undecided →
``wait``; else ``promote`` — or ``await_approval`` when the model's approval policy
protects the primary's alias and the challenger's version does not meet it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from noria.domain.deployments import PromotionPolicy, RouteRole

Verdict = Literal["promote", "wait", "reject", "await_approval", "no_challenger"]
VERDICTS: tuple[Verdict, ...] = ("promote", "wait", "reject", "await_approval", "no_challenger")
DisagreementKind = Literal["labels", "scores", "label mix", "mean score"]
_State = Literal["holds", "fails", "undecided"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the prediction log says about the challenger since it became challenger.

    ``disagreement`` is 1 - agreement (``labels``) or the mean absolute score difference
    (``scores``) on ``paired`` rows; a canary's requests never reach the primary, so its
    disagreement compares the whole answer distributions (``label mix``: total variation
    distance; ``mean score``). ``metric_*`` are computed on the ``labelled`` rows.
    """

    mode: RouteRole
    rows: int
    paired: int = 0
    disagreement: float | None = None
    disagreement_kind: DisagreementKind = "labels"
    labelled: int = 0
    metric_primary: float | None = None
    metric_challenger: float | None = None
    notes: tuple[str, ...] = ()

    def figures(self, policy: PromotionPolicy) -> dict[str, float]:
        values: dict[str, float | None] = {
            "rows": float(self.rows),
            "paired": float(self.paired),
            "disagreement": self.disagreement,
            "labelled": float(self.labelled),
            "metric_primary": self.metric_primary,
            "metric_challenger": self.metric_challenger,
            "delta": improvement(policy, self),
        }
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Ruling:
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)


def improvement(policy: PromotionPolicy, evidence: Evidence) -> float | None:
    """Challenger minus primary on the policy's metric, turned so that positive is better."""
    if evidence.metric_primary is None or evidence.metric_challenger is None:
        return None
    delta = evidence.metric_challenger - evidence.metric_primary
    return -delta if policy.lower_is_better else delta


def decide(
    policy: PromotionPolicy, evidence: Evidence, *, approval_problem: str | None = None
) -> Ruling:
    """Apply ``policy`` to ``evidence``; ``approval_problem`` is why the model's approval
    policy would refuse the move (None: it allows it)."""
    checks = [_requests(policy, evidence)]
    if policy.max_disagreement is not None:
        checks.append(_disagreement(policy, policy.max_disagreement, evidence))
    if policy.metric is not None:
        checks.append(_performance(policy, policy.metric, evidence))
    reasons = [reason for _, reason in checks] + list(evidence.notes)
    states = {state for state, _ in checks}
    if "fails" in states:
        return Ruling("reject", reasons)
    if "undecided" in states:
        return Ruling("wait", reasons)
    if approval_problem is not None:
        return Ruling("await_approval", [*reasons, approval_problem])
    return Ruling("promote", reasons)


def _requests(policy: PromotionPolicy, evidence: Evidence) -> tuple[_State, str]:
    verb = "shadowed" if evidence.mode is RouteRole.SHADOW else "answered"
    text = f"challenger {verb} {evidence.rows} of {policy.min_requests} required rows"
    if evidence.rows < policy.min_requests:
        return "undecided", f"{text}: waiting for more traffic"
    return "holds", text


def _disagreement(policy: PromotionPolicy, limit: float, evidence: Evidence) -> tuple[_State, str]:
    value = evidence.disagreement
    kind = evidence.disagreement_kind
    if value is None:
        return "undecided", "disagreement not measured yet: no rows to compare with the primary"
    shown, bound = _shown(value, kind), _shown(limit, kind)
    where = f"on {evidence.paired} paired rows" if kind in ("labels", "scores") else "overall"
    if value > limit:
        text = f"{_name(kind)} {shown} > {bound} {where}"
        if evidence.rows < policy.min_requests:
            return "undecided", f"{text} (not decided before {policy.min_requests} rows)"
        return "fails", text
    return "holds", f"{_name(kind)} {shown} ≤ {bound} {where}"


def _performance(policy: PromotionPolicy, metric: str, evidence: Evidence) -> tuple[_State, str]:
    if evidence.labelled < policy.min_labels:
        return "undecided", (
            f"{evidence.labelled} of {policy.min_labels} required labelled rows for "
            f"{metric}: waiting for labels"
        )
    delta = improvement(policy, evidence)
    if delta is None:
        return "undecided", (
            f"{metric} could not be computed on {evidence.labelled} labelled rows "
            "(see the notes): waiting"
        )
    better = " (lower is better)" if policy.lower_is_better else ""
    text = f"{metric} {delta:+.3f}{better} on {evidence.labelled} labelled rows"
    if delta < policy.delta:
        return "fails", f"{text} < {policy.delta:+.3f}"
    return "holds", f"{text} ≥ {policy.delta:+.3f}"


def _name(kind: DisagreementKind) -> str:
    return {
        "labels": "disagreement",
        "scores": "mean score difference",
        "label mix": "label mix difference",
        "mean score": "mean score difference",
    }[kind]


def _shown(value: float, kind: DisagreementKind) -> str:
    return f"{value:.1%}" if kind in ("labels", "label mix") else f"{value:.4g}"
