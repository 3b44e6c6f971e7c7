"""What the promotion service answers: a challenge, a decision, and what was done about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from noria.domain.deployments import Deployment
from noria.promotion.decision import Verdict

CHALLENGER = "challenger"  # the alias a gated candidate gets, and its route follows


@dataclass(frozen=True)
class Challenge:
    """The gate's outcome for ``version`` against ``champion_version`` on fresh data.

    ``verdict`` is the gate's :class:`~noria.evaluation.gates.GateVerdict`; when it passed,
    ``version`` is ``@challenger`` and ``deployment`` (as it is now) routes to it in ``mode``.
    """

    version: int
    model: str
    champion_version: int
    passed: bool
    verdict: Any  # GateVerdict (pydantic): .summary(), .to_dict()
    deployment: Deployment
    mode: str
    evaluation_run_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "champion_version": self.champion_version,
            "passed": self.passed,
            "mode": self.mode,
            "deployment": self.deployment.name,
            "evaluation_run_id": self.evaluation_run_id,
            "verdict": self.verdict.to_dict(),
        }


@dataclass(frozen=True)
class PromotionDecision:
    """What the policy says now, why (one sentence per rule), and the figures it read."""

    deployment: str
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    challenger_version: int | None = None
    champion_version: int | None = None
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "figures": dict(self.figures),
            "model": self.model,
            "challenger_version": self.challenger_version,
            "champion_version": self.champion_version,
        }


@dataclass(frozen=True)
class PromotionOutcome:
    """``action``: ``promoted``, ``rejected``, ``held`` (a passing challenger waiting for a
    human or an approval) or ``none``; ``error`` when the deployment could not be handled."""

    deployment: str
    decision: PromotionDecision | None
    action: str = "none"
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "action": self.action,
            "error": self.error,
            "decision": None if self.decision is None else self.decision.to_dict(),
        }
