"""Challengers and automatic promotion: retrain → gate → challenger → shadow/canary → promote.

``client.promotions`` is a :class:`PromotionService`; the policy itself is
:class:`noria.domain.deployments.PromotionPolicy`, stored with the deployment.
"""

from __future__ import annotations

from noria.domain.deployments import PromotionPolicy
from noria.promotion.decision import Evidence, decide
from noria.promotion.records import CHALLENGER, Challenge, PromotionDecision, PromotionOutcome
from noria.promotion.service import PromotionService, challenger_route

__all__ = [
    "CHALLENGER",
    "Challenge",
    "Evidence",
    "PromotionDecision",
    "PromotionOutcome",
    "PromotionPolicy",
    "PromotionService",
    "challenger_route",
    "decide",
]
