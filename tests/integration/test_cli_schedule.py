"""`noria schedule …`, `noria events …` and `noria scheduler` in real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from noria.client import connect
from noria.domain.schedules import FiringStatus
from noria.settings import Settings
from tests.integration.test_cli import assert_one_line_error, noria

FLOWS = """
    import noria

    @noria.step(cache=False)
    def count(n: int, payload: dict) -> int:
        return n + len(payload)

    @noria.pipeline
    def job(n: int = 1, event_payload: dict | None = None):
        count(n, event_payload or {})

    @noria.step
    def explode(n: int) -> int:
        raise RuntimeError("no good")

    @noria.pipeline
    def broken(n: int = 1):
        explode(n)
"""


@pytest.fixture
def flows(tmp_path: Path) -> str:
    path = tmp_path / "project" / "flows.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(FLOWS))
    return str(path)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_bad_schedules_are_one_line_errors(home: Path, flows: str) -> None:
    bad_cron = noria(home, "schedule", "add", f"{flows}:job", "--cron", "*/5 * * *")
    assert_one_line_error(bad_cron, "Invalid cron expression '*/5 * * *'", "five fields")
    unknown = noria(home, "schedule", "add", f"{flows}:nope", "--on-event", "x")
    assert_one_line_error(unknown, "has no 'nope'")
    dataset = noria(home, "schedule", "add", f"{flows}:job", "--on-dataset", "credit")
    assert_one_line_error(dataset, "Dataset 'credit' not found", "noria data ingest")
    mistyped = noria(home, "schedule", "add", f"{flows}:job", "--on-event", "x", "-p", "n=many")
    assert_one_line_error(mistyped, "Cannot schedule", "n='many'", "not a valid int")
    two = noria(home, "schedule", "add", f"{flows}:job", "--cron", "* * * * *", "--on-event", "x")
    assert_one_line_error(two, "exactly one trigger", "--cron, --on-event")
    cooldown = noria(home, "schedule", "add", f"{flows}:job", "--on-event", "x", "--cooldown", "1y")
    assert_one_line_error(cooldown, "Invalid cooldown '1y'")
    executor = noria(home, "schedule", "add", f"{flows}:job", "--on-event", "x", "-x", "rayy")
    assert_one_line_error(executor, "Unknown executor 'rayy'")
    payload = noria(home, "events", "raise", "go", "--payload", "[1, 2]")
    assert_one_line_error(payload, "--payload must be a JSON object")
    missing = noria(home, "schedule", "show", "nothing")
    assert_one_line_error(missing, "Schedule 'nothing' not found")


def test_add_fire_show_pause_resume_remove(home: Path, flows: str) -> None:
    added = noria(
        home, "schedule", "add", f"{flows}:job", "--on-event", "retrain", "-p", "n=3",
        "--cooldown", "10m", "--json",
    )  # fmt: skip
    assert added.code == 0, added.err
    body = added.json()
    assert (body["name"], body["trigger"], body["params"], body["cooldown_ms"]) == (
        "job-event",
        "event retrain",
        {"n": "3"},
        600_000,
    )
    cron = noria(
        home, "schedule", "add", f"{flows}:job", "--cron", "0 3 * * *", "--name", "nightly"
    )
    assert cron.code == 0, cron.err
    assert "nightly" in cron.out and "next at" in cron.out
    listed = noria(home, "schedule", "list", "--json").json()["schedules"]
    assert [s["name"] for s in listed] == ["job-event", "nightly"]
    assert listed[1]["next"].endswith("03:00:00")

    raised = noria(home, "events", "raise", "retrain", "--payload", '{"reason": "drift"}', "--json")
    assert raised.code == 0, raised.err
    event_id = raised.json()["id"]
    once = noria(home, "scheduler", "--once", "--json", "--root", str(Path(flows).parent))
    assert once.code == 0, once.err
    [fired] = once.json()["fired"]
    assert (once.json()["monitor_runs"], once.json()["promotions"]) == (0, 0)
    assert (fired["schedule"], fired["occurrence"], fired["status"]) == (
        "job-event",
        event_id,
        "SUCCEEDED",
    )
    shown = noria(home, "schedule", "show", "job-event", "--json").json()
    assert [f["pipeline_run_id"] for f in shown["firings"]] == [fired["pipeline_run_id"]]

    assert "Paused" in noria(home, "schedule", "pause", "nightly").out
    with connect(Settings(home=home, user="tester")) as client:
        assert client.schedules.get("nightly").enabled is False
        assert client.triggers.event(event_id).handled_by == ("job-event",)
        run = client.metadata.pipelines.get_run(fired["pipeline_run_id"])
        assert run.params == {"n": 3, "event_payload": {"reason": "drift"}}
    assert "Resumed" in noria(home, "schedule", "resume", "nightly").out
    assert "Removed" in noria(home, "schedule", "remove", "nightly").out
    with connect(Settings(home=home, user="tester")) as client:
        assert [s.name for s in client.schedules.list().items] == ["job-event"]
        actions = [event.action for event in client.audit.events().items]
        assert actions[:3] == ["schedule.removed", "schedule.resumed", "schedule.paused"]


def test_scheduler_once_exits_1_when_a_run_failed(home: Path, flows: str) -> None:
    assert noria(home, "schedule", "add", f"{flows}:broken", "--on-event", "go").code == 0
    assert noria(home, "events", "raise", "go").code == 0
    once = noria(home, "scheduler", "--once", "--root", str(Path(flows).parent))
    assert once.code == 1
    assert "FAILED" in once.out
    assert "no good" in once.out


def test_the_scheduler_only_runs_pipelines_from_its_folder(
    home: Path, flows: str, tmp_path: Path
) -> None:
    assert noria(home, "schedule", "add", f"{flows}:job", "--on-event", "go").code == 0
    assert noria(home, "events", "raise", "go").code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    once = noria(home, "scheduler", "--once", "--json", "--root", str(elsewhere))
    assert once.code == 1
    [fired] = once.json()["fired"]
    assert fired["status"] == "FAILED"
    assert "outside the scheduler's project folder" in fired["error"]
    assert fired["pipeline_run_id"] is None


def _wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_the_long_running_scheduler_fires_and_stops_on_sigterm(home: Path, flows: str) -> None:
    assert noria(home, "schedule", "add", f"{flows}:job", "--on-event", "go").code == 0
    env = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    env["NORIA_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "noria.cli.main", "scheduler", "--interval", "0.2"],
        cwd=Path(flows).parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with connect(Settings(home=home, user="tester")) as client:
            client.triggers.raise_event("go", {"x": 1})

            def fired() -> bool:
                items = client.schedules.firings("job-event").items
                return bool(items) and items[0].status is FiringStatus.SUCCEEDED

            _wait_for(fired, "the event trigger to fire")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Scheduler " in out
    assert "Fired job-event" in err
    assert "Traceback" not in err
