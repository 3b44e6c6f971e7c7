"""Challengers and automatic promotion (``client.promotions``).

>>> challenge = client.promotions.challenge("models:/credit-risk/2", deployment="credit-api",
...                                         data="datasets:/credit-fresh/1", label="default")
>>> challenge.passed                       # gated against the champion on fresh rows
>>> client.promotions.evaluate("credit-api").verdict      # "wait", then "promote"
>>> client.promotions.advance("credit-api").action        # "promoted": @champion moved

``challenge`` is the offline half (gate, then ``@challenger`` and a shadow or canary route);
``evaluate`` reads the prediction log since the alias moved and applies the deployment's
:class:`~noria.domain.deployments.PromotionPolicy`; ``advance`` acts on the decision;
``run_due`` is what ``noria scheduler`` calls each tick.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from noria.audit import AuditLog
from noria.datasets.analysis import is_dataset_uri, table_of
from noria.domain.audit import AuditQuery
from noria.domain.deployments import Deployment, PromotionPolicy, Route, RouteRole
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Relation
from noria.domain.registry import ModelVersion, check_promotion
from noria.errors import InvalidArgument, NoriaError, NotFound, PolicyViolation
from noria.lineage import LineageService
from noria.promotion.decision import decide
from noria.promotion.evidence import Contenders, gather_evidence
from noria.promotion.gating import Gatekeeper, gate_text
from noria.promotion.records import CHALLENGER, Challenge, PromotionDecision, PromotionOutcome
from noria.promotion.routes import check_mode, with_challenger, without_route

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from noria.artifacts import ArtifactStore
    from noria.datasets.service import DatasetService
    from noria.deployments.service import DeploymentService
    from noria.registry.service import ModelRegistry

logger = logging.getLogger("noria.promotion")
_PAGE = 500


@dataclass(frozen=True)
class _State:
    """A deployment as ``evaluate`` read it, for ``advance`` to act on."""

    deployment: Deployment
    decision: PromotionDecision
    challenger: Route | None
    policy: PromotionPolicy


class PromotionService:
    """Gates candidates into ``@challenger`` and promotes or rejects them by policy."""

    def __init__(
        self,
        *,
        artifacts: ArtifactStore,
        datasets: DatasetService,
        deployments: DeploymentService,
        registry: ModelRegistry,
        lineage: LineageService,
        audit: AuditLog,
        gatekeeper: Gatekeeper,
    ) -> None:
        self._artifacts = artifacts
        self._datasets = datasets
        self._deployments = deployments
        self._registry = registry
        self._lineage = lineage
        self._audit = audit
        self._gatekeeper = gatekeeper

    # -- offline: the gate ---------------------------------------------------------

    def challenge(
        self,
        candidate: str,
        *,
        deployment: str,
        data: Any,
        label: str,
        gate: str | Path | None = None,
        mode: str = "shadow",
        traffic: float = 10.0,
    ) -> Challenge:
        """Gate ``candidate`` (``models:/name/2``) against the version the deployment's
        primary serves, on ``data`` (fresh labelled rows: a DataFrame, an Arrow table, a
        file or a ``datasets:/`` URI). Passing: ``@challenger`` and a shadow (or a
        ``traffic`` % canary) route to it. Failing: ``passed`` False, nothing routed."""
        role = check_mode(mode, traffic)
        policy_text = gate_text(gate)
        current = self._deployments.get(deployment)
        if current.primary.alias == CHALLENGER:
            raise InvalidArgument(
                f"Deployment {deployment!r} serves @{CHALLENGER} as its primary; the "
                f"primary must follow another alias (e.g. @champion) to be challenged."
            )
        version = self._candidate(candidate)
        champion = self._served(current, current.primary)
        if (champion.name, champion.version) == (version.name, version.version):
            raise InvalidArgument(
                f"{version.uri} is what deployment {deployment!r} serves already: challenge "
                "it with another version."
            )
        outcome = self._gatekeeper.judge(
            version,
            champion,
            self._frame(data),
            label=label,
            gate=policy_text,
            data_uri=str(data) if is_dataset_uri(data) else None,
        )
        self._link_pipeline_run(version)
        passed = outcome.verdict.passed
        verdict_json = json.dumps(outcome.verdict.to_dict(), allow_nan=True)
        self._registry.record_gate(
            version.name, version.version, passed=passed, verdict=verdict_json
        )
        summary = {
            "deployment": deployment,
            "champion_version": champion.version,
            "mode": mode,
            "gate": outcome.verdict.summary(),
            "evaluation_run": outcome.run_id,
        }
        if passed:
            current = self._route_challenger(current, version, role, traffic)
            if role is RouteRole.CANARY:
                summary["traffic"] = float(traffic)
            self._audit.record("promotion.challenger_set", version.entity(), after=summary)
        else:
            self._audit.record("promotion.gate_failed", version.entity(), after=summary)
        return Challenge(
            version=version.version,
            model=version.name,
            champion_version=champion.version,
            passed=passed,
            verdict=outcome.verdict,
            deployment=current,
            mode=mode,
            evaluation_run_id=outcome.run_id,
        )

    def _route_challenger(
        self, current: Deployment, version: ModelVersion, role: RouteRole, traffic: float
    ) -> Deployment:
        self._registry.set_alias(version.name, CHALLENGER, version.version)
        uri = f"models:/{version.name}@{CHALLENGER}"
        routes = with_challenger(current, uri, role, traffic)
        if routes is not None:
            current = self._deployments.set_routes(
                current, routes, action="deployment.challenger_routed"
            )
        # The route may have been there already, following the alias's previous version.
        self._lineage.record(version.entity(), Relation.DEPLOYED_AS, current.entity())
        return current

    def _link_pipeline_run(self, version: ModelVersion) -> None:
        """pipeline run —produced→ version, so that a retraining run (started by an alert's
        event) leads to the version it trained; the step's tracking run alone does not."""
        pipeline_run = self._gatekeeper.pipeline_run_of(version)
        if pipeline_run is not None:
            run = EntityRef(EntityKind.PIPELINE_RUN, pipeline_run)
            self._lineage.record(run, Relation.PRODUCED, version.entity())

    # -- online: the policy --------------------------------------------------------

    def evaluate(self, deployment: str, *, now: datetime | None = None) -> PromotionDecision:
        """Apply the deployment's policy to what the challenger did since it became
        challenger; changes nothing."""
        return self._state(deployment, now).decision

    def advance(self, deployment: str, *, now: datetime | None = None) -> PromotionOutcome:
        """Evaluate, then act: promote (``@champion`` moves through the registry), reject
        (the challenger's route and alias go), or hold for a human or an approval."""
        state = self._state(deployment, now)
        decision, current, route = state.decision, state.deployment, state.challenger
        if route is None or decision.verdict in ("wait", "no_challenger"):
            return PromotionOutcome(deployment, decision)
        if decision.verdict == "promote" and state.policy.auto_promote:
            try:
                self._deployments.promote(deployment, route=route.model_uri)
            except PolicyViolation as exc:  # the approval policy changed since evaluate
                held = _with_reason(decision, exc.message, "await_approval")
                return self._hold(current, held)
            self._drop_alias(route)
            self._record("promotion.promoted", current, decision)
            return PromotionOutcome(deployment, decision, "promoted")
        if decision.verdict == "reject":
            self._deployments.set_routes(
                current,
                without_route(current, route.model_uri),
                action="deployment.challenger_removed",
            )
            self._drop_alias(route)
            self._record("promotion.rejected", current, decision)
            return PromotionOutcome(deployment, decision, "rejected")
        if decision.verdict == "promote":
            decision = _with_reason(
                decision,
                f"auto_promote is off: promote it with `noria deploy promote {deployment} "
                f"--route {route.model_uri}`",
                "promote",
            )
        return self._hold(current, decision)

    def run_due(self, now: datetime | None = None) -> list[PromotionOutcome]:
        """``advance`` every deployment with a policy and a challenger route; a failing one
        is reported in its outcome and never stops the others."""
        outcomes = []
        for deployment in self._candidates():
            try:
                outcomes.append(self.advance(deployment.name, now=now))
            except NoriaError as exc:
                outcomes.append(PromotionOutcome(deployment.name, None, error=exc.message))
            except Exception as exc:  # one broken deployment must not stop the others
                logger.exception("Promotion of deployment %s failed", deployment.name)
                error = f"{type(exc).__name__}: {exc}"
                outcomes.append(PromotionOutcome(deployment.name, None, error=error))
        return outcomes

    # -- internals -----------------------------------------------------------------

    def _state(self, name: str, now: datetime | None) -> _State:
        current = self._deployments.get(name)
        policy = current.promotion or PromotionPolicy()
        route = challenger_route(current)
        reasons = [] if current.promotion else ["no promotion policy set: the defaults apply"]
        champion = self._served_or_none(current.primary)
        base = PromotionDecision(name, "no_challenger", reasons, {}, None, champion)
        if route is None:
            base.reasons.append(f"no route follows @{CHALLENGER}: run `noria models challenge`")
            return _State(current, base, None, policy)
        challenger = self._served_or_none(route)
        if challenger is None or champion is None:
            missing = route.model_uri if challenger is None else current.primary.model_uri
            base.reasons.append(f"{missing} does not resolve to a version")
            return _State(current, base, route, policy)
        end_ms = _ms(now) if now is not None else time.time_ns() // 1_000_000
        start_ms = self._alias_set_at(route.model_name, challenger)
        contenders = Contenders(
            name, current.primary, champion, route, challenger, min(start_ms, end_ms), end_ms
        )
        evidence = gather_evidence(self._artifacts, contenders, metric=policy.metric)
        ruling = decide(policy, evidence, approval_problem=self._approval(current, route))
        decision = PromotionDecision(
            name,
            ruling.verdict,
            reasons + ruling.reasons,
            evidence.figures(policy),
            challenger,
            champion,
            route.model_name,
        )
        return _State(current, decision, route, policy)

    def _approval(self, deployment: Deployment, route: Route) -> str | None:
        """Why the model's approval policy would refuse moving the primary's alias."""
        primary = deployment.primary
        if primary.alias is None or primary.model_name != route.model_name:
            return None
        policy = self._registry.get_model(primary.model_name).policy
        version = self._registry.resolve(route.model_uri)
        try:
            check_promotion(policy, primary.alias, version)
        except PolicyViolation as exc:
            return exc.message
        return None

    def _alias_set_at(self, model: str, version: int) -> int:
        """When ``@challenger`` last moved to ``version`` (ms); 0 when the history lacks it."""
        query = AuditQuery(entity=EntityRef(EntityKind.REGISTERED_MODEL, model))
        token: str | None = None
        while True:
            page = self._audit.events(query, limit=_PAGE, page_token=token)
            for event in page.items:  # newest first
                after = event.after or {}
                if event.action == "model.alias_set" and after.get("alias") == CHALLENGER:
                    if after.get("version") == version:
                        return int(event.occurred_at.timestamp() * 1000)
                    return 0
            if page.next_page_token is None:
                return 0
            token = page.next_page_token

    def _hold(self, deployment: Deployment, decision: PromotionDecision) -> PromotionOutcome:
        """Record ``promotion.held`` once per challenger and verdict, not every tick."""
        latest = self._audit.events(AuditQuery(entity=deployment.entity()), limit=1).items
        last = latest[0] if latest else None
        repeated = (
            last is not None
            and last.action == "promotion.held"
            and (last.after or {}).get("challenger_version") == decision.challenger_version
            and (last.after or {}).get("verdict") == decision.verdict
        )
        if not repeated:
            self._record("promotion.held", deployment, decision)
        return PromotionOutcome(deployment.name, decision, "held")

    def _record(self, action: str, deployment: Deployment, decision: PromotionDecision) -> None:
        after: dict[str, Any] = decision.to_dict()
        self._audit.record(action, deployment.entity(), after=after)
        if decision.model is not None and decision.challenger_version is not None:
            version = EntityRef(
                EntityKind.MODEL_VERSION, f"{decision.model}/{decision.challenger_version}"
            )
            self._audit.record(action, version, after=after)

    def _drop_alias(self, route: Route) -> None:
        with contextlib.suppress(NotFound):  # already gone: nothing to clean up
            self._registry.delete_alias(route.model_name, CHALLENGER)

    def _candidates(self) -> list[Deployment]:
        found: list[Deployment] = []
        token: str | None = None
        while True:
            page = self._deployments.list_deployments(limit=_PAGE, page_token=token)
            found += [d for d in page.items if d.promotion and challenger_route(d) is not None]
            if page.next_page_token is None:
                return found
            token = page.next_page_token

    def _candidate(self, uri: str) -> ModelVersion:
        if not isinstance(uri, str) or not uri.startswith("models:"):
            raise InvalidArgument(
                f"Candidate {uri!r} is not a model version URI: use models:/<name>/<version>, "
                "e.g. models:/credit-risk/2."
            )
        return self._registry.resolve(uri)

    def _served(self, deployment: Deployment, route: Route) -> ModelVersion:
        try:
            return self._registry.resolve(route.model_uri)
        except NotFound:
            raise NotFound(
                f"The primary of deployment {deployment.name!r}, {route.model_uri}, serves no "
                "version (its alias is not set): set it, then challenge it."
            ) from None

    def _served_or_none(self, route: Route) -> int | None:
        try:
            return self._registry.resolve(route.model_uri).version
        except NotFound:
            return None

    def _frame(self, data: Any) -> pd.DataFrame:
        import pandas as pd
        import pyarrow as pa

        if isinstance(data, pd.DataFrame):
            return data
        if isinstance(data, pa.Table):
            return data.to_pandas()
        frame: pd.DataFrame = table_of(self._datasets, data).to_pandas()
        return frame


def challenger_route(deployment: Deployment) -> Route | None:
    """The shadow or canary route that follows ``@challenger``, if any."""
    for route in deployment.routes:
        if route.role is not RouteRole.PRIMARY and route.alias == CHALLENGER:
            return route
    return None


def _with_reason(decision: PromotionDecision, reason: str, verdict: Any) -> PromotionDecision:
    return PromotionDecision(
        decision.deployment,
        verdict,
        [*decision.reasons, reason],
        decision.figures,
        decision.challenger_version,
        decision.champion_version,
        decision.model,
    )


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise InvalidArgument(
            f"now={moment.isoformat()} has no timezone: pass an aware datetime, e.g. "
            "datetime.now(UTC)."
        )
    return int(moment.timestamp() * 1000)
