"""The scheduler against a real SQLite store: cron, dataset and event triggers, cooldowns,
catch-up after downtime, failing pipelines, and the trigger context pipelines receive."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from noria.client import Client, connect
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.schedules import Firing, FiringStatus
from noria.errors import InvalidArgument, NotFound
from noria.pipelines.scheduling import ManualClock, Scheduler
from noria.settings import Settings
from noria.triggers.cron import next_after

FLOW = """
    import noria

    @noria.step(cache=False)
    def record(folder: str, context: dict) -> dict:
        return context

    @noria.pipeline
    def job(folder: str = "x", trigger: dict | None = None, dataset_uri: str = "",
            event_payload: dict | None = None):
        record(folder, {"trigger": trigger, "dataset_uri": dataset_uri,
                        "event_payload": event_payload})

    @noria.step(cache=False)
    def hold(folder: str) -> str:
        import pathlib, time
        (pathlib.Path(folder) / "started").write_text("yes")
        deadline = time.monotonic() + 60
        while not (pathlib.Path(folder) / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return "released"

    @noria.pipeline
    def waiting(folder: str = "."):
        hold(folder)

    @noria.step
    def explode(n: int) -> int:
        raise RuntimeError(f"step exploded on {n}")

    @noria.pipeline
    def broken(n: int = 1):
        explode(n)
"""


@pytest.fixture
def flow(tmp_path: Path) -> str:
    path = tmp_path / "flows" / "scheduled_flow.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(FLOW))
    return str(path)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with connect(Settings(home=tmp_path / "home", user="tester")) as opened:
        yield opened


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def run_params(client: Client, firing: Firing) -> dict[str, object]:
    assert firing.pipeline_run_id is not None, firing
    return dict(client.metadata.pipelines.get_run(firing.pipeline_run_id).params)


def tick_and_wait(scheduler: Scheduler, at: datetime | None = None) -> list[Firing]:
    started = scheduler.tick(at).started
    assert scheduler.wait(timeout=60)
    return [f for f in scheduler.finished if f.id in {s.id for s in started}]


def test_cron_fires_each_occurrence_once_and_catches_up_with_the_latest(
    client: Client, flow: str
) -> None:
    schedule = client.schedules.add(f"{flow}:job", cron="*/5 * * * *", params={"folder": "cron"})
    first = next_after("*/5 * * * *", schedule.created_at)
    clock = ManualClock(moment(first - 1000))
    scheduler = Scheduler(client, clock=clock)

    assert scheduler.tick().started == ()  # not due yet
    clock.set(moment(first))
    [fired] = tick_and_wait(scheduler)
    assert fired.status is FiringStatus.SUCCEEDED
    assert fired.occurrence == moment(first).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = run_params(client, fired)
    assert params["folder"] == "cron"
    assert params["trigger"] == {
        "schedule": schedule.name,
        "kind": "cron",
        "occurrence": fired.occurrence,
        "fired_at": fired.occurrence,
    }
    assert scheduler.tick().started == ()  # the same occurrence never fires again

    # Down for 17 minutes: three occurrences were missed; only the latest fires, once.
    clock.advance(timedelta(minutes=17))
    [caught_up] = tick_and_wait(scheduler)
    assert caught_up.occurrence == moment(first + 15 * 60_000).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert scheduler.tick().started == ()
    stored = client.schedules.firings(schedule.name).items
    assert [f.occurrence for f in stored] == [caught_up.occurrence, fired.occurrence]
    lineage = client.lineage.upstream(
        EntityRef(EntityKind.PIPELINE_RUN, fired.pipeline_run_id or "")
    )
    assert schedule.entity() in {step.edge.upstream for step in lineage.steps}


def test_a_restarted_scheduler_goes_on_from_the_store(client: Client, flow: str) -> None:
    schedule = client.schedules.add(f"{flow}:job", cron="* * * * *")
    first = next_after("* * * * *", schedule.created_at)
    assert len(tick_and_wait(Scheduler(client), moment(first))) == 1
    # A new scheduler (a restart) at the same minute finds the occurrence answered.
    assert Scheduler(client).tick(moment(first + 30_000)).started == ()
    assert len(tick_and_wait(Scheduler(client), moment(first + 60_000))) == 1


def test_dataset_trigger_fires_once_per_new_version(client: Client, flow: str) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3]})
    client.datasets.ingest(frame, name="credit")
    schedule = client.schedules.add(f"{flow}:job", dataset="credit", name="on-credit")
    scheduler = Scheduler(client)
    assert scheduler.tick().started == ()  # version 1 was there before the trigger

    client.datasets.ingest(frame.assign(x=[4, 5, 6]), name="credit")
    [fired] = tick_and_wait(scheduler)
    assert fired.occurrence == "datasets:/credit/2"
    assert run_params(client, fired)["dataset_uri"] == "datasets:/credit/2"
    assert scheduler.tick().started == ()

    client.datasets.ingest(frame.assign(x=[7, 8, 9]), name="credit")
    client.datasets.ingest(frame.assign(x=[0, 0, 0]), name="credit")
    [newest] = tick_and_wait(scheduler)
    assert newest.occurrence == "datasets:/credit/4"
    assert client.schedules.get(schedule.name).cursor == 4
    run = EntityRef(EntityKind.PIPELINE_RUN, newest.pipeline_run_id or "")
    upstream = {step.edge.upstream for step in client.lineage.upstream(run).steps}
    assert EntityRef(EntityKind.DATASET_VERSION, "credit/4") in upstream


def test_event_trigger_fires_on_raise_and_respects_the_cooldown(client: Client, flow: str) -> None:
    schedule = client.schedules.add(
        f"{flow}:job", event="retrain-credit", cooldown="10m", name="retrain"
    )
    start = datetime.now(UTC)
    clock = ManualClock(start)
    scheduler = Scheduler(client, clock=clock)
    first_id = client.triggers.raise_event(
        "retrain-credit", {"reason": "drift", "alert": {"uri": "alerts:/0123"}}
    )
    [fired] = tick_and_wait(scheduler)
    assert fired.occurrence == first_id
    assert run_params(client, fired)["event_payload"] == {
        "reason": "drift",
        "alert": {"uri": "alerts:/0123"},
    }

    # Two more events inside the cooldown: nothing fires until it has passed, then the
    # newest fires once and answers the other.
    second_id = client.triggers.raise_event("retrain-credit", {"reason": "again"})
    third_id = client.triggers.raise_event("retrain-credit", {"reason": "and again"})
    clock.advance(timedelta(minutes=5))
    assert scheduler.tick().started == ()
    clock.advance(timedelta(minutes=5))
    [later] = tick_and_wait(scheduler)
    assert later.occurrence == third_id
    statuses = {f.occurrence: f.status for f in client.schedules.firings(schedule.name).items}
    assert statuses == {
        first_id: FiringStatus.SUCCEEDED,
        second_id: FiringStatus.COALESCED,
        third_id: FiringStatus.SUCCEEDED,
    }
    assert client.triggers.event(second_id).handled_by == (schedule.name,)
    event = EntityRef(EntityKind.EVENT, first_id)
    downstream = {step.edge.downstream for step in client.lineage.downstream(event).steps}
    assert EntityRef(EntityKind.PIPELINE_RUN, fired.pipeline_run_id or "") in downstream
    alert = EntityRef(EntityKind.ALERT, "0123")
    assert event in {step.edge.downstream for step in client.lineage.downstream(alert).steps}


def test_a_failing_pipeline_does_not_stop_the_scheduler(
    client: Client, flow: str, tmp_path: Path
) -> None:
    client.schedules.add(f"{flow}:broken", event="go", name="broken")
    client.schedules.add(f"{flow}:job", event="go", name="healthy")
    gone = tmp_path / "gone.py"
    gone.write_text(Path(flow).read_text())
    client.schedules.add(f"{gone}:job", event="go", name="vanished")
    gone.unlink()
    scheduler = Scheduler(client)
    client.triggers.raise_event("go", {})
    outcomes = {f.schedule: f for f in tick_and_wait(scheduler)}
    assert outcomes["healthy"].status is FiringStatus.SUCCEEDED
    assert outcomes["broken"].status is FiringStatus.FAILED
    assert "step exploded on 1" in (outcomes["broken"].error or "")
    assert outcomes["broken"].pipeline_run_id is not None
    assert outcomes["vanished"].status is FiringStatus.FAILED
    assert "does not exist" in (outcomes["vanished"].error or "")

    client.triggers.raise_event("go", {})
    assert len(tick_and_wait(scheduler)) == 3  # still firing everything


def test_paused_schedules_skip_what_happened_meanwhile(client: Client, flow: str) -> None:
    client.schedules.add(f"{flow}:job", event="tick", name="paused-job")
    client.schedules.pause("paused-job")
    client.triggers.raise_event("tick", {})
    scheduler = Scheduler(client)
    assert scheduler.tick().started == ()
    client.schedules.resume("paused-job")
    assert scheduler.tick().started == ()  # raised while paused: not fired
    client.triggers.raise_event("tick", {})
    assert len(tick_and_wait(scheduler)) == 1
    actions = [e.action for e in client.audit.events().items if e.entity.key == "paused-job"]
    assert actions == ["schedule.resumed", "schedule.paused", "schedule.created"]


def test_two_schedulers_on_one_store_fire_each_occurrence_once(client: Client, flow: str) -> None:
    schedule = client.schedules.add(f"{flow}:job", cron="* * * * *")
    first = next_after("* * * * *", schedule.created_at)
    schedulers = [Scheduler(client), Scheduler(client)]
    started = 0
    with ThreadPoolExecutor(2) as pool:
        for minute in range(4):  # both tick at once, minute after minute
            at = [moment(first + minute * 60_000)] * len(schedulers)
            reports = list(pool.map(Scheduler.tick, schedulers, at))
            started += sum(len(report.started) for report in reports)
    for scheduler in schedulers:
        assert scheduler.wait(timeout=60)
    assert started == 4
    occurrences = [f.occurrence for f in client.schedules.firings(schedule.name).items]
    assert len(occurrences) == len(set(occurrences)) == 4


def test_the_service_refuses_bad_schedules(client: Client, flow: str) -> None:
    with pytest.raises(InvalidArgument, match="five fields"):
        client.schedules.add(f"{flow}:job", cron="* * *")
    with pytest.raises(InvalidArgument, match="exactly one trigger"):
        client.schedules.add(f"{flow}:job", cron="* * * * *", event="x")
    with pytest.raises(NotFound, match="noria data ingest"):
        client.schedules.add(f"{flow}:job", dataset="nothing-here")
    with pytest.raises(InvalidArgument, match="Invalid cooldown"):
        client.schedules.add(f"{flow}:job", event="x", cooldown="soon")
    with pytest.raises(InvalidArgument, match="module:pipeline"):
        client.schedules.add("no-colon", event="x")


def _signal_when_started(folder: Path, count: int) -> threading.Thread:
    """Send SIGINT ``count`` times once the held step has started, then release the step
    (after the signals when one is sent; the test releases it itself otherwise)."""

    def send() -> None:
        deadline = time.monotonic() + 60
        while not (folder / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        for _ in range(count):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)
        if count == 1:
            (folder / "release").write_text("go")

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_sigint_stops_ticking_and_waits_for_the_running_pipeline(
    client: Client, flow: str, tmp_path: Path
) -> None:
    client.schedules.add(f"{flow}:waiting", event="hold", params={"folder": str(tmp_path)})
    client.triggers.raise_event("hold", {})
    sender = _signal_when_started(tmp_path, 1)
    scheduler = Scheduler(client)
    scheduler.run_forever(interval=0.05)  # returns once stopped and the run has ended
    sender.join(timeout=10)
    [firing] = client.schedules.firings("waiting-event").items
    assert firing.status is FiringStatus.SUCCEEDED
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_second_sigint_stops_at_once_and_records_the_run_as_stopped(
    client: Client, flow: str, tmp_path: Path
) -> None:
    client.schedules.add(f"{flow}:waiting", event="hold", params={"folder": str(tmp_path)})
    client.triggers.raise_event("hold", {})
    sender = _signal_when_started(tmp_path, 2)
    scheduler = Scheduler(client)
    scheduler.run_forever(interval=0.05)
    sender.join(timeout=10)
    [firing] = client.schedules.firings("waiting-event").items
    assert firing.status is FiringStatus.FAILED
    assert firing.error == "the scheduler was stopped before the run ended"
    (tmp_path / "release").write_text("go")  # let the abandoned run end before the store closes
    for thread in threading.enumerate():
        if thread.name == f"noria-firing-{firing.id}":
            thread.join(timeout=30)


def test_a_scheduler_with_a_root_imports_nothing_from_outside_it(client: Client, flow: str) -> None:
    client.schedules.add(f"{flow}:job", event="go", name="in-project")
    client.schedules.add("json:loads", event="go", name="stdlib")  # the service imports nothing
    client.triggers.raise_event("go", {})
    outcomes = {f.schedule: f for f in tick_and_wait(Scheduler(client, root=Path(flow).parent))}
    assert outcomes["in-project"].status is FiringStatus.SUCCEEDED
    assert outcomes["stdlib"].status is FiringStatus.FAILED
    assert "outside the scheduler's project folder" in (outcomes["stdlib"].error or "")

    client.triggers.raise_event("go", {})
    elsewhere = Scheduler(client, root=Path(flow).parent / "nested")
    refused = {f.schedule: f for f in tick_and_wait(elsewhere)}
    assert refused["in-project"].status is FiringStatus.FAILED
    assert refused["in-project"].pipeline_run_id is None
