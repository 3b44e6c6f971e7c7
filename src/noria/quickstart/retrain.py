"""The loop closes: the alert's event retrains → gate against the champion → shadow → promote.

The retraining is not called directly: the ``retrain-credit`` schedule fires on the event the
alert raised, as a ``noria scheduler`` tick would fire it, so lineage runs alert → event →
pipeline run → model version.
"""

from __future__ import annotations

import os
import time
from typing import Any

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.schedules import Firing, FiringStatus
from noria.errors import Conflict
from noria.quickstart import flows
from noria.quickstart.options import DEPLOYMENT, EVENT, GATE
from noria.quickstart.scenario import LABEL, customers
from noria.quickstart.session import Session
from noria.quickstart.traffic import Traffic, send, wait_for_logs

SWAP_WAIT_S = 60.0


def retrain(session: Session) -> None:
    firing = _fire_schedule(session)
    if firing.status is not FiringStatus.SUCCEEDED or firing.pipeline_run_id is None:
        raise Conflict(f"The retraining run {firing.pipeline_run_id} failed: {firing.error}")
    version = _version_made_by(session, firing.pipeline_run_id)
    session.versions["retrained"] = version
    session.facts.retraining = {
        "event": firing.occurrence,
        "pipeline_run": firing.pipeline_run_id,
        "version": version,
        "dataset": session.facts.datasets["retraining"],
    }
    session.say.stage(
        "retrain",
        f"schedule {EVENT} fired on event {firing.occurrence} and ran "
        f"{flows.training.name} on {flows.DATASET}@latest",
    )
    session.say.detail(
        f"pipeline run {firing.pipeline_run_id} ({session.sizes.retrain_trials}-trial sweep) "
        f"→ models:/{flows.MODEL_NAME}/{version}, trained on "
        f"{session.facts.datasets['retraining']}"
    )
    steps = session.client.metadata.pipelines.list_steps(firing.pipeline_run_id)
    if any(step.name == "search" and step.cache_hit for step in steps):
        session.say.detail(
            "the sweep came from the step cache (the same data, trials and seed as an earlier "
            "run's retraining); the version is new all the same"
        )


def _fire_schedule(session: Session) -> Firing:
    """What a ``noria scheduler`` tick does for one schedule: find its due occurrence (the
    alert's event), claim it in the store, run the pipeline and record the outcome. Only the
    quickstart's own schedule is fired, whatever else the store holds."""
    from noria.pipelines.triggered_runs import run_firing
    from noria.triggers.due import find_due

    client = session.client
    now_ms = time.time_ns() // 1_000_000
    schedule = client.schedules.get(EVENT)
    due = find_due(client.metadata, schedule, now_ms)
    claimed = None
    if due is not None:
        claimed = client.metadata.schedules.claim(
            schedule.name, due.occurrence, now_ms=now_ms, scheduler=f"quickstart:{os.getpid()}"
        )
    if due is None or claimed is None:
        raise Conflict(f"The {EVENT} event did not start schedule {EVENT}: nothing was due.")
    with session.say.progress(f"retraining ({session.sizes.retrain_trials} trials)"):
        return run_firing(client, due, claimed)


def _version_made_by(session: Session, pipeline_run: str) -> int:
    """The version the run registered: its lineage edge pipeline run —produced→ version."""
    graph = session.client.lineage.downstream(
        EntityRef(EntityKind.PIPELINE_RUN, pipeline_run), depth=1
    )
    for entity in graph.entities():
        name, _, number = entity.key.rpartition("/")
        if entity.kind is EntityKind.MODEL_VERSION and name == flows.MODEL_NAME:
            return int(number)
    raise Conflict(f"Pipeline run {pipeline_run} registered no {flows.MODEL_NAME} version.")


def challenge(session: Session) -> None:
    version = session.versions["retrained"]
    fresh = session.facts.datasets["fresh"]
    result = session.client.promotions.challenge(
        f"models:/{flows.MODEL_NAME}/{version}",
        deployment=DEPLOYMENT,
        data=fresh,
        label=LABEL,
        gate=GATE,
        mode="shadow",
    )
    compared_rules = [rule for rule in result.verdict.rules if rule.kind == "champion"]
    auc = next((rule for rule in compared_rules if rule.metric == "roc_auc"), None)
    session.facts.challenge = {
        "version": version,
        "champion_version": result.champion_version,
        "passed": result.passed,
        "data": fresh,
        "roc_auc": None if auc is None else auc.observed,
        "champion_roc_auc": None if auc is None else auc.champion,
    }
    compared = ""
    if auc is not None and auc.observed is not None and auc.champion is not None:
        compared = f": ROC AUC {auc.observed:.3f} vs {auc.champion:.3f}"
    session.say.stage(
        "challenge",
        f"models:/{flows.MODEL_NAME}/{version} against the champion (version "
        f"{result.champion_version}) on {fresh}{compared}",
    )
    session.say.detail(result.verdict.summary())
    if not result.passed:
        raise Conflict(
            f"The retrained models:/{flows.MODEL_NAME}/{version} did not pass the gate against "
            "the champion, so nothing was promoted; try another --seed or a larger --drift."
        )
    session.say.detail(
        f"{flows.MODEL_NAME}@challenger → {version}; {DEPLOYMENT} shadows it: a copy of every "
        "request, answers logged, never returned"
    )


def shadow(session: Session) -> None:
    sizes, version = session.sizes, session.versions["retrained"]
    _wait_for_route(session, role="shadow", version=version)
    frame = customers(sizes.shadow_requests * sizes.rows_per_request, seed=session.seed(7),
                      drift=session.options.drift)  # fmt: skip
    with session.say.progress("shadow traffic", total=sizes.shadow_requests) as advance:
        sent = send(session.require_http(), DEPLOYMENT, frame,
                    rows_per_request=sizes.rows_per_request, on_request=advance)  # fmt: skip
    wait_for_logs(session.client, model=flows.MODEL_NAME, traffic=sent, shadowed=True)
    challenger = _shadow_accuracy(session, sent)
    session.facts.traffic["shadow"] = {
        "requests": sent.requests,
        "rows": sent.rows,
        "accuracy": round(sent.accuracy, 4),
        "challenger_accuracy": round(challenger, 4),
    }
    session.say.stage(
        "shadow",
        f"{sent.rows} customers in {sent.requests} requests, labels sent: the champion answered "
        f"{sent.accuracy:.1%} right, the shadowed challenger {challenger:.1%}",
    )


def promote(session: Session) -> None:
    outcome = session.client.promotions.advance(DEPLOYMENT)
    decision = outcome.decision
    verdict = "none" if decision is None else decision.verdict
    reasons = [] if decision is None else list(decision.reasons)
    figures = {} if decision is None else dict(decision.figures)
    session.facts.promotion = {
        "action": outcome.action,
        "verdict": verdict,
        "reasons": reasons,
        "figures": figures,
    }
    session.say.stage("promote", f"the promotion policy says {verdict}: {outcome.action}")
    for reason in reasons:
        session.say.detail(reason)
    if outcome.action != "promoted":
        raise Conflict(
            f"The challenger was not promoted ({verdict}: {'; '.join(reasons) or outcome.error})."
        )
    champion = session.client.registry.resolve(f"models:/{flows.MODEL_NAME}@champion").version
    session.facts.champion_version = champion
    _wait_for_route(session, role="primary", version=champion)
    session.say.detail(
        f"{flows.MODEL_NAME}@champion → version {champion}; the server now answers with it"
    )


def _wait_for_route(session: Session, *, role: str, version: int) -> None:
    """Until the server serves ``version`` on a ``role`` route (it re-reads the deployment
    every half second, then loads and warms the version)."""
    http = session.require_http()
    deadline = time.monotonic() + SWAP_WAIT_S
    while True:
        routes: list[dict[str, Any]] = http.get(f"/v1/deployments/{DEPLOYMENT}").json()["routes"]
        if any(r.get("role") == role and r.get("version") == version for r in routes):
            return
        if time.monotonic() > deadline:
            raise Conflict(
                f"The model server did not serve version {version} as {role} within "
                f"{SWAP_WAIT_S:g} s; its routes: {routes}"
            )
        time.sleep(0.25)


def _shadow_accuracy(session: Session, sent: Traffic) -> float:
    from noria.predictions import read_predictions

    rows = read_predictions(session.client, model=flows.MODEL_NAME, start=sent.started_ms - 1000)
    truth = dict(zip(sent.keys(), sent.labels, strict=True))
    right = total = 0
    for record in rows.select(["request_id", "row", "role", "prediction"]).to_pylist():
        key = (record["request_id"], record["row"])
        if record["role"] == "shadow" and key in truth:
            total += 1
            right += int(record["prediction"]) == truth[key]
    return right / total if total else 0.0
