"""`client.promotions` on real stores: a gated challenger, shadow and canary traffic written
through the real prediction log (as the model server writes it), labels through the real
feedback log, and the policy's decisions — promote, wait, reject, held for approval."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import noria
from noria.client import Client, connect
from noria.domain.deployments import PromotionPolicy, RouteRole
from noria.domain.lineage import Relation
from noria.domain.registry import ApprovalPolicy
from noria.errors import InvalidArgument, NotFound
from noria.predictions.feedback import FeedbackLog
from noria.predictions.log import ParquetPredictionLog
from noria.predictions.records import PredictionRecord
from noria.settings import Settings

LABEL = "target"


@dataclass
class World:
    client: Client
    holdout: pd.DataFrame
    weak: int  # the champion: one feature
    strong: int  # every feature


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with connect(settings) as client:
        previous = noria.set_default_client(client)
        try:
            frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
            train, holdout = train_test_split(frame, test_size=0.5, random_state=0)
            weak = _register(train, ["mean radius"])
            strong = _register(train, list(train.columns.drop(LABEL)))
            client.registry.set_alias("cancer", "champion", weak)
            client.deployments.create("cancer-api", model="models:/cancer@champion")
            yield World(client, holdout.reset_index(drop=True), weak, strong)
        finally:
            noria.set_default_client(previous)


def _register(train: pd.DataFrame, columns: list[str]) -> int:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    features = train.drop(columns=[LABEL])
    model.fit(features[columns].reindex(columns=features.columns, fill_value=0.0), train[LABEL])
    with noria.start_run(experiment="cancer"):
        uri = noria.log_model(model, "model", input_example=features.head(3))
    return noria.register_model(uri, "cancer").version


def serve(
    world: World,
    *,
    challenger: int,
    role: str = "shadow",
    rows: int = 240,
    labels: bool = True,
    flip: float = 0.0,
) -> datetime:
    """Answer ``rows`` requests as the model server does behind ``cancer-api``: the champion
    as primary, the challenger as a shadow (same request) or a canary (its own requests);
    ``flip`` turns that share of the challenger's answers. Returns a moment after them."""
    frame = world.holdout.sample(rows, replace=True, random_state=1).reset_index(drop=True)
    features = frame.drop(columns=[LABEL])
    answers = {
        world.weak: noria.load_model(f"models:/cancer/{world.weak}").predict(features),
        challenger: noria.load_model(f"models:/cancer/{challenger}").predict(features),
    }
    flips = np.random.default_rng(3).random(rows) < flip
    log = ParquetPredictionLog(world.client.artifacts)
    now = int(datetime.now(UTC).timestamp() * 1000) + 1
    for i in range(rows):
        inputs = [features.iloc[i].to_dict()]
        ours = int(answers[challenger][i]) ^ int(flips[i])
        sends = [(world.weak, "primary", int(answers[world.weak][i]))]
        if role == "shadow":
            sends.append((challenger, "shadow", ours))
        elif i % 2:  # a canary takes every other request away from the primary
            sends = [(challenger, "canary", ours)]
        for version, route_role, answer in sends:
            log.offer(
                PredictionRecord(
                    request_id=f"req-{i}",
                    model="cancer",
                    version=version,
                    deployment="cancer-api",
                    inputs=inputs,
                    outputs=[answer],
                    latency_ms=2.0,
                    time_ms=now + i,
                    role=route_role,
                )
            )
    log.close()
    if labels:
        feedback = FeedbackLog(world.client.artifacts)
        feedback.append(
            [
                {"request_id": f"req-{i}", "row": 0, "label": int(frame[LABEL][i])}
                for i in range(rows)
            ]
        )
        feedback.close()
    return datetime.fromtimestamp((now + rows + 1) / 1000, UTC) + timedelta(seconds=1)


def test_a_passing_challenger_is_shadowed_then_promoted(world: World) -> None:
    client = world.client
    client.deployments.set_promotion_policy(
        "cancer-api", PromotionPolicy(min_requests=200, metric="accuracy", min_labels=100)
    )
    challenge = client.promotions.challenge(
        f"models:/cancer/{world.strong}", deployment="cancer-api", data=world.holdout, label=LABEL
    )
    assert challenge.passed and challenge.champion_version == world.weak
    assert "roc_auc >= champion.roc_auc" in challenge.verdict.summary()
    assert client.registry.resolve("models:/cancer@challenger").version == world.strong
    assert [(r.model_uri, r.role) for r in challenge.deployment.routes] == [
        ("models:/cancer@champion", RouteRole.PRIMARY),
        ("models:/cancer@challenger", RouteRole.SHADOW),
    ]
    stored = client.registry.get_version("cancer", world.strong)
    assert stored.gate is not None and stored.gate.passed

    waiting = client.promotions.evaluate("cancer-api")
    assert waiting.verdict == "wait"
    assert "challenger shadowed 0 of 200 required rows" in waiting.reasons[0]

    later = serve(world, challenger=world.strong)
    decision = client.promotions.evaluate("cancer-api", now=later)
    assert decision.verdict == "promote", decision.reasons
    assert decision.figures["rows"] == 240 and decision.figures["paired"] == 240
    assert decision.figures["labelled"] == 240
    assert decision.figures["delta"] > 0
    assert decision.figures["metric_challenger"] > decision.figures["metric_primary"]
    assert (decision.challenger_version, decision.champion_version) == (world.strong, world.weak)

    outcome = client.promotions.advance("cancer-api", now=later)
    assert outcome.action == "promoted"
    assert client.registry.resolve("models:/cancer@champion").version == world.strong
    with pytest.raises(NotFound):
        client.registry.resolve("models:/cancer@challenger")
    routes = client.deployments.get("cancer-api").routes
    assert [r.model_uri for r in routes] == ["models:/cancer@champion"]
    actions = [event.action for event in client.registry.history("cancer", limit=500)]
    assert "promotion.challenger_set" in actions and "promotion.promoted" in actions
    served = client.lineage.upstream(client.deployments.get("cancer-api").entity(), depth=1)
    assert {(s.edge.upstream.key, s.edge.relation) for s in served.steps} >= {
        (f"cancer/{world.strong}", Relation.DEPLOYED_AS)
    }
    # Nothing left to judge.
    assert client.promotions.evaluate("cancer-api").verdict == "no_challenger"
    assert client.promotions.run_due() == []


def test_a_failing_gate_routes_nothing(world: World) -> None:
    client = world.client
    client.registry.set_alias("cancer", "champion", world.strong)
    challenge = client.promotions.challenge(
        f"models:/cancer/{world.weak}", deployment="cancer-api", data=world.holdout, label=LABEL
    )
    assert not challenge.passed and "gate FAILED" in challenge.verdict.summary()
    assert [r.model_uri for r in challenge.deployment.routes] == ["models:/cancer@champion"]
    with pytest.raises(NotFound):
        client.registry.resolve("models:/cancer@challenger")
    actions = [event.action for event in client.registry.history("cancer", limit=500)]
    assert "promotion.gate_failed" in actions
    with pytest.raises(InvalidArgument, match="serves already"):
        client.promotions.challenge(
            f"models:/cancer/{world.strong}", deployment="cancer-api", data=world.holdout,
            label=LABEL,
        )  # fmt: skip
    with pytest.raises(InvalidArgument, match="no label column 'default'"):
        client.promotions.challenge(
            f"models:/cancer/{world.weak}", deployment="cancer-api", data=world.holdout,
            label="default",
        )  # fmt: skip


def test_a_disagreeing_canary_is_rejected(world: World) -> None:
    client = world.client
    client.deployments.set_promotion_policy(
        "cancer-api", PromotionPolicy(min_requests=100, max_disagreement=0.1)
    )
    challenge = client.promotions.challenge(
        f"models:/cancer/{world.strong}",
        deployment="cancer-api",
        data=world.holdout,
        label=LABEL,
        gate="rules:\n  - accuracy >= 0.5\n",
        mode="canary",
        traffic=25,
    )
    assert [(r.role, r.percent) for r in challenge.deployment.routes] == [
        (RouteRole.PRIMARY, 75.0),
        (RouteRole.CANARY, 25.0),
    ]
    later = serve(world, challenger=world.strong, role="canary", rows=400, flip=0.9)
    outcomes = client.promotions.run_due(now=later)
    assert [(o.deployment, o.action, o.error) for o in outcomes] == [
        ("cancer-api", "rejected", None)
    ]
    decision = outcomes[0].decision
    assert decision is not None and decision.verdict == "reject"
    assert any(r.startswith("label mix difference") for r in decision.reasons)
    routes = client.deployments.get("cancer-api").routes
    assert [(r.model_uri, r.percent) for r in routes] == [("models:/cancer@champion", 100.0)]
    assert client.registry.resolve("models:/cancer@champion").version == world.weak
    with pytest.raises(NotFound):
        client.registry.resolve("models:/cancer@challenger")


def test_approval_and_manual_promotion_hold_the_challenger(world: World) -> None:
    client = world.client
    client.registry.set_policy("cancer", ApprovalPolicy(protected_aliases=("champion",)))
    client.deployments.set_promotion_policy(
        "cancer-api", PromotionPolicy(min_requests=50, max_disagreement=0.5)
    )
    client.promotions.challenge(
        f"models:/cancer/{world.strong}", deployment="cancer-api", data=world.holdout, label=LABEL
    )
    later = serve(world, challenger=world.strong, rows=60, labels=False)
    first = client.promotions.advance("cancer-api", now=later)
    assert first.action == "held" and first.decision is not None
    assert first.decision.verdict == "await_approval"
    assert "is not approved" in first.decision.reasons[-1]
    client.promotions.advance("cancer-api", now=later)  # held again: recorded once
    held = [
        event
        for event in client.audit.events(
            _query(client.deployments.get("cancer-api").entity()), limit=100
        ).items
        if event.action == "promotion.held"
    ]
    assert len(held) == 1

    client.registry.set_policy("cancer", ApprovalPolicy())
    client.deployments.set_promotion_policy(
        "cancer-api", PromotionPolicy(min_requests=50, max_disagreement=0.5, auto_promote=False)
    )
    manual = client.promotions.advance("cancer-api", now=later)
    assert (manual.action, manual.decision.verdict) == ("held", "promote")  # type: ignore[union-attr]
    assert "noria deploy promote cancer-api" in manual.decision.reasons[-1]  # type: ignore[union-attr]
    assert client.registry.resolve("models:/cancer@champion").version == world.weak


def _query(entity):  # type: ignore[no-untyped-def]
    from noria.domain.audit import AuditQuery

    return AuditQuery(entity=entity)


def test_one_broken_deployment_never_stops_the_others(world: World) -> None:
    """``run_due`` reports a deployment whose log cannot be read, and goes on."""
    import io
    import json

    from noria.domain.artifacts import Digest

    client = world.client
    policy = PromotionPolicy(min_requests=50, max_disagreement=0.5)
    client.deployments.set_promotion_policy("cancer-api", policy)
    client.promotions.challenge(
        f"models:/cancer/{world.strong}", deployment="cancer-api", data=world.holdout, label=LABEL
    )
    source = client.registry.get_version("cancer", world.weak).source
    for _ in range(2):
        client.registry.register(source, "other")
    client.registry.set_alias("other", "champion", 1)
    client.registry.set_alias("other", "challenger", 2)
    client.deployments.create(
        "broken-api",
        model="models:/other@champion",
        shadows=["models:/other@challenger"],
        promotion=policy,
    )
    log = ParquetPredictionLog(client.artifacts)
    log.offer(
        PredictionRecord("r", "other", 1, "broken-api", [{"x": 1}], [1], 1.0, _now_ms(), "primary")
    )
    log.close()
    [index] = [key for key in client.blobs.list("prediction-log/predictions/other/")]
    with client.blobs.open(index) as stream:
        digest = Digest.parse(json.loads(stream.read())["data"])
    client.blobs.put(digest.blob_key, io.BytesIO(b"not the segment"))  # bit rot

    later = serve(world, challenger=world.strong, rows=60, labels=False)
    outcomes = {o.deployment: o for o in client.promotions.run_due(now=later)}
    assert outcomes["cancer-api"].action == "promoted"
    broken = outcomes["broken-api"]
    assert broken.action == "none" and broken.decision is None
    assert broken.error is not None and digest.hex in broken.error


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
