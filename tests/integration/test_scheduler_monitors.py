"""The closed loop in one scheduler tick: monitors run, a drift alert raises an event, and
the event trigger starts the retraining pipeline — all walkable in lineage."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from noria.client import Client, connect
from noria.domain.entities import EntityKind
from noria.domain.schedules import FiringStatus
from noria.pipelines.scheduling import Scheduler
from noria.settings import Settings
from tests.integration.monitoring_world import Traffic, at, build_world

RETRAIN = """
    import noria

    @noria.step(cache=False)
    def retrain(reason: dict) -> str:
        return reason["alert"]["rule"]

    @noria.pipeline
    def retraining(event_payload: dict | None = None):
        retrain(event_payload or {"alert": {"rule": "none"}})
"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with connect(Settings(home=tmp_path / "home", user="ana")) as opened:
        yield opened


def test_a_drift_alert_starts_retraining_in_the_same_tick(client: Client, tmp_path: Path) -> None:
    flow = tmp_path / "retrain_flow.py"
    flow.write_text(textwrap.dedent(RETRAIN))
    reference = build_world(client, tmp_path)
    Traffic(client).window(0, income_shift=20_000.0)
    client.monitors.create(
        "credit-api", reference=reference, window="1h", start=at(0), label_column="default",
        rules=["drift.share_drifted > 0.3 action=trigger:retrain-credit"],
    )  # fmt: skip
    client.schedules.add(f"{flow}:retraining", event="retrain-credit", name="retrain")
    scheduler = Scheduler(client)

    report = scheduler.tick(datetime.fromtimestamp(at(1.1) / 1000, UTC))
    assert scheduler.wait(timeout=60)
    assert report.monitor_runs == 1
    assert report.errors == ()
    [firing] = scheduler.finished
    assert (firing.schedule, firing.status) == ("retrain", FiringStatus.SUCCEEDED)
    [alert] = client.monitors.alerts("credit-api").items
    run = client.metadata.pipelines.get_run(firing.pipeline_run_id or "")
    assert run.params["event_payload"]["alert"]["id"] == alert.id
    reached = client.lineage.downstream(alert.entity(), depth=2).entities()
    assert run.entity() in reached
    assert any(entity.kind is EntityKind.EVENT for entity in reached)
