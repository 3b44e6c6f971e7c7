"""The whole loop in lineage: a drift alert raises an event, the event trigger runs a
retraining pipeline that registers a version, the version is gated into ``@challenger`` and
shadowed by a real ``noria serve --deployment`` process, labels arrive through
``/v1/feedback``, and the scheduler's tick promotes it. From the alert, lineage reaches the
retraining run, the new version and the deployment; the audit trail holds each step."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import noria
from noria.client import Client, connect
from noria.domain.deployments import PromotionPolicy
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.schedules import FiringStatus
from noria.pipelines.scheduling import Scheduler
from noria.predictions.log import ParquetPredictionLog
from noria.predictions.records import PredictionRecord
from noria.settings import Settings
from tests.conftest import free_port
from tests.integration.test_serving_deployments import serve, wait_ready

pytestmark = pytest.mark.slow
FEATURES = ["x0", "x1", "x2", "x3"]
HOUR = 3_600_000
T0 = 1_735_689_600_000  # 2025-01-01T00:00Z: the planted window of drifted traffic

RETRAIN = """
    import noria
    import noria.data
    from sklearn.linear_model import LogisticRegression

    @noria.step(cache=False)
    def retrain(event_payload: dict) -> int:
        data = noria.data.load("datasets:/credit@latest")
        model = LogisticRegression().fit(data.drop(columns=["label"]), data["label"])
        uri = noria.log_model(model, "model", input_example=data.drop(columns=["label"]).head(3))
        return noria.register_model(uri, "credit").version

    @noria.pipeline
    def retraining(event_payload: dict | None = None):
        retrain(event_payload or {})
"""


def population(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """x0 and x2 move by ``shift`` when the population drifts; the label follows x0 + x1."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 4)), columns=FEATURES)
    frame[["x0", "x2"]] += shift
    frame["label"] = ((frame["x0"] + frame["x1"] - shift) > 0).astype("int64")
    return frame


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with connect(Settings(home=tmp_path / "home", user="ana")) as opened:
        previous = noria.set_default_client(opened)
        try:
            yield opened
        finally:
            noria.set_default_client(previous)


def champion(client: Client) -> None:
    """credit v1 (it sees x1 only) as @champion behind credit-api, with a policy."""
    reference = population(1000, seed=1)
    client.datasets.ingest(reference, name="credit")
    features = reference[FEATURES]
    weak = LogisticRegression().fit(features.assign(x0=0.0, x2=0.0, x3=0.0), reference["label"])
    with noria.start_run(experiment="credit"):
        uri = noria.log_model(weak, "model", input_example=features.head(3))
    noria.register_model(uri, "credit")
    client.registry.set_alias("credit", "champion", 1)
    client.deployments.create(
        "credit-api",
        model="models:/credit@champion",
        promotion=PromotionPolicy(
            min_requests=150, max_disagreement=None, metric="accuracy", min_labels=100
        ),
    )


def drifted_traffic(client: Client) -> None:
    """An hour of drifted requests in the log, as the model server writes them."""
    frame = population(400, seed=2, shift=2.0)
    log = ParquetPredictionLog(client.artifacts)
    for i, row in enumerate(frame[FEATURES].to_dict("records")):
        log.offer(
            PredictionRecord(
                request_id=f"old-{i}", model="credit", version=1, deployment="credit-api",
                inputs=[row], outputs=[0], latency_ms=3.0, time_ms=T0 + i * 8000,
                role="primary",
            )
        )  # fmt: skip
    log.close()


def test_drift_to_promotion_is_one_walk_in_lineage(client: Client, tmp_path: Path) -> None:
    champion(client)
    drifted_traffic(client)
    flow = tmp_path / "retrain_flow.py"
    flow.write_text(textwrap.dedent(RETRAIN))
    client.monitors.create(
        "credit-api", reference="datasets:/credit/1", window="1h", start=T0,
        rules=["drift.share_drifted > 0.3 action=trigger:retrain-credit"],
    )  # fmt: skip
    client.schedules.add(f"{flow}:retraining", event="retrain-credit", name="retrain")
    client.datasets.ingest(population(1000, seed=3, shift=2.0), name="credit")  # the newest data

    # The tick: the monitor alerts, its event starts the retraining run, which registers v2.
    scheduler = Scheduler(client)
    report = scheduler.tick(datetime.fromtimestamp((T0 + 1.1 * HOUR) / 1000, UTC))
    assert scheduler.wait(timeout=120)
    assert report.errors == () and report.monitor_runs == 1
    [firing] = scheduler.finished
    assert firing.status is FiringStatus.SUCCEEDED
    [alert] = client.monitors.alerts("credit-api").items
    assert client.registry.get_version("credit", 2).run_id is not None

    fresh = population(300, seed=4, shift=2.0)
    challenge = client.promotions.challenge(
        "models:/credit/2", deployment="credit-api", data=fresh, label="label"
    )
    assert challenge.passed, challenge.verdict.summary()

    # Live traffic through the real model server, the challenger as a shadow; then labels.
    home = client.settings.home
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = serve(home, log, "--deployment", "credit-api", "--port", str(port))
    try:
        wait_ready(url, process, log)
        live = population(200, seed=5, shift=2.0)
        with httpx.Client(base_url=url, timeout=30) as http:
            answers = [
                http.post("/v1/models/credit-api/predict", json={"records": [row]}).json()
                for row in live[FEATURES].to_dict("records")
            ]
            labels = [
                {"request_id": answer["request_id"], "row": 0, "label": int(label)}
                for answer, label in zip(answers, live["label"], strict=True)
            ]
            assert http.post("/v1/feedback", json={"labels": labels}).status_code < 300
    finally:
        process.terminate()
        assert process.wait(timeout=60) in (0, -15), log.read_text()

    later = datetime.now(UTC) + timedelta(seconds=1)
    decision = client.promotions.evaluate("credit-api", now=later)
    assert decision.verdict == "promote", decision.reasons
    assert decision.figures["paired"] == 200 and decision.figures["labelled"] == 200
    tick = Scheduler(client).tick(later)
    assert tick.promotions == 1 and tick.errors == ()
    assert client.registry.resolve("models:/credit@champion").version == 2

    reached = client.lineage.downstream(alert.entity(), depth=6).entities()
    run = client.metadata.pipelines.get_run(firing.pipeline_run_id or "")
    assert run.entity() in reached
    assert EntityRef(EntityKind.MODEL_VERSION, "credit/2") in reached
    assert EntityRef(EntityKind.DEPLOYMENT, "credit-api") in reached
    actions = [event.action for event in client.registry.history("credit", limit=500)]
    assert {"promotion.challenger_set", "promotion.promoted"} <= set(actions)
