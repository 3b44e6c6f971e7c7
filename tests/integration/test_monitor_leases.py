"""A monitor is evaluated by one process at a time: its lease keeps two schedulers (or a
scheduler and `noria monitor run`) from firing the same alert's actions twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.client import Client, connect
from noria.errors import Conflict
from noria.monitoring.runner import MonitorRun
from noria.monitoring.service import LEASE_MS
from noria.settings import Settings
from tests.integration.monitoring_world import Traffic, at, build_world

RULE = "drift.share_drifted > 0.3 severity=critical"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", user="ana")


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


def drifted_monitor(client: Client, tmp_path: Path) -> None:
    reference = build_world(client, tmp_path)
    Traffic(client).window(0, income_shift=20_000.0)
    client.monitors.create(
        "credit-api", reference=reference, window="1h", start=at(0), label_column="default",
        rules=[RULE],
    )  # fmt: skip


def test_a_monitor_held_by_another_process_is_left_alone(client: Client, tmp_path: Path) -> None:
    drifted_monitor(client, tmp_path)
    wall_ms = int(time.time() * 1000)
    assert client.metadata.monitors.claim(
        "credit-api", owner="scheduler-b", now_ms=wall_ms, lease_ms=LEASE_MS
    )

    [busy] = client.monitors.run_due(at(1.1))
    assert (busy.busy, busy.evaluated, busy.fired, busy.error) == (True, [], [], None)
    with pytest.raises(Conflict, match="being evaluated by another process"):
        client.monitors.run("credit-api", now=at(1.1))
    assert client.monitors.alerts("credit-api").items == []

    client.metadata.monitors.release("credit-api", owner="scheduler-b")
    [done] = client.monitors.run_due(at(1.1))
    assert not done.busy and len(done.evaluated) == 1 and len(done.fired) == 1
    # ... and the run gave its lease back: anyone may take it now
    assert client.metadata.monitors.claim(
        "credit-api", owner="scheduler-c", now_ms=int(time.time() * 1000), lease_ms=LEASE_MS
    )


def test_two_processes_running_one_monitor_at_once_fire_its_alert_once(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    drifted_monitor(client, tmp_path)
    start = threading.Barrier(2)
    runs: list[MonitorRun] = []
    refused: list[Conflict] = []

    def scheduler() -> None:
        with connect(settings) as own:  # a separate client, as a second scheduler has
            start.wait()
            try:
                runs.append(own.monitors.run("credit-api", now=at(1.1)))
            except Conflict as exc:
                refused.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    fired = [alert for run in runs for alert in run.fired]
    assert len(runs) + len(refused) == 2
    assert len(fired) == 1
    assert len(client.monitors.alerts("credit-api").items) == 1
