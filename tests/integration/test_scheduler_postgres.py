"""Two scheduler processes on one PostgreSQL store fire each occurrence exactly once."""

from __future__ import annotations

import multiprocessing.synchronize
import textwrap
from collections import Counter
from datetime import UTC, datetime
from multiprocessing import Queue
from pathlib import Path

import pytest

from noria.client import connect
from noria.domain.schedules import FiringStatus
from noria.pipelines.scheduling import ManualClock, Scheduler
from noria.settings import Settings
from noria.triggers.cron import next_after
from tests.processes import run_workers

FLOW = """
    import noria

    @noria.step(cache=False)
    def note(text: str) -> str:
        return text

    @noria.pipeline
    def job(trigger: dict | None = None):
        note(str((trigger or {}).get("occurrence")))
"""
SCHEDULES = 3
MINUTES = 4
EVENTS = 2


def scheduler_worker(
    uri: str,
    home: str,
    minutes_ms: list[int],
    barrier: multiprocessing.synchronize.Barrier,
    results: Queue[tuple[str, list[str]]],
) -> None:
    """One scheduler process: tick at each minute, as fast as it can, then wait for its runs."""
    settings = Settings(home=Path(home), store_uri=uri, user="scheduler")
    with connect(settings, initialize=False) as client:
        clock = ManualClock(datetime.fromtimestamp(minutes_ms[0] / 1000, UTC))
        scheduler = Scheduler(client, clock=clock)
        barrier.wait()
        claimed: list[str] = []
        for minute in minutes_ms:
            clock.set(datetime.fromtimestamp(minute / 1000, UTC))
            for _ in range(2):  # a second pass finds everything claimed
                report = scheduler.tick()
                claimed += [f"{f.schedule}@{f.occurrence}" for f in report.started]
        scheduler.wait(timeout=120)
        results.put((scheduler.name, claimed))


@pytest.mark.postgres
@pytest.mark.slow
def test_two_scheduler_processes_fire_each_occurrence_once(
    postgres_uri: str, tmp_path: Path
) -> None:
    flow = tmp_path / "pg_flow.py"
    flow.write_text(textwrap.dedent(FLOW))
    home = tmp_path / "home"
    with connect(Settings(home=home, store_uri=postgres_uri, user="setup")) as client:
        created = [
            client.schedules.add(f"{flow}:job", cron="* * * * *", name=f"every-minute-{n}")
            for n in range(SCHEDULES)
        ]
        client.schedules.add(f"{flow}:job", event="retrain", name="on-retrain")
        events = [client.triggers.raise_event("retrain", {"n": n}) for n in range(EVENTS)]
    first = next_after("* * * * *", max(s.created_at for s in created))
    minutes = [first + n * 60_000 for n in range(MINUTES)]

    reports = run_workers(
        scheduler_worker,
        [(postgres_uri, str(home), minutes), (postgres_uri, str(home), minutes)],
        timeout=240,
    )

    claimed = [item for _, items in reports for item in items]
    counts = Counter(claimed)
    assert all(count == 1 for count in counts.values()), counts
    # Each cron schedule fired every minute; the event trigger fired once, for the newest event.
    assert len(claimed) == SCHEDULES * MINUTES + 1
    assert f"on-retrain@{events[-1]}" in counts
    with connect(Settings(home=home, store_uri=postgres_uri, user="check")) as client:
        firings = client.schedules.firings(limit=1000).items
        keys = [(f.schedule, f.occurrence) for f in firings]
        assert len(keys) == len(set(keys)) == SCHEDULES * MINUTES + EVENTS
        ran = [f for f in firings if f.status is not FiringStatus.COALESCED]
        assert all(f.status is FiringStatus.SUCCEEDED for f in ran), ran
        run_ids = {f.pipeline_run_id for f in ran}
        assert len(run_ids) == len(ran)
        stored_runs = client.metadata.pipelines.list_runs(pipeline="job", limit=1000).items
        assert {run.id for run in stored_runs} == run_ids
