"""The pure parts of running: scheduling, backoff, the DAG view, output capture."""

from __future__ import annotations

import sys
import threading

from noria.domain.ids import new_id
from noria.domain.pipelines import StepRun, StepStatus
from noria.pipelines.capture import captured_output
from noria.pipelines.dag_view import layout
from noria.pipelines.execution import backoff_s
from noria.pipelines.schedule import Schedule

# load → clean → train → report, and load → profile (an independent branch)
DAG = {
    "load": (),
    "clean": ("load",),
    "profile": ("load",),
    "train": ("clean",),
    "report": ("train", "profile"),
}


def test_ready_steps_follow_their_upstream() -> None:
    schedule = Schedule(DAG)
    assert schedule.ready() == ["load"]
    schedule.start("load")
    assert schedule.ready() == []
    schedule.succeed("load")
    assert schedule.ready() == ["clean", "profile"]


def test_a_failure_skips_only_its_downstream() -> None:
    schedule = Schedule(DAG)
    for name in ("load", "clean"):
        schedule.start(name)
        schedule.succeed(name)
    schedule.start("profile")
    schedule.start("train")
    assert schedule.fail("train") == ["report"]
    assert schedule.status["profile"] is StepStatus.RUNNING  # still going
    assert not schedule.finished
    schedule.succeed("profile")
    assert schedule.finished and schedule.failed() == ["train"]


def test_backoff_doubles_from_its_base_and_is_capped() -> None:
    assert [backoff_s(0.5, n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_s(10, 50) == 300.0


def test_dag_layout_hangs_each_step_under_its_first_upstream() -> None:
    run_id = new_id()
    steps = [
        StepRun(new_id(), run_id, name, f"m:{name}", upstream=upstream)
        for name, upstream in DAG.items()
    ]
    lines = [(line.prefix, line.step.name, line.also_after) for line in layout(steps)]
    assert lines == [
        ("└── ", "load", ()),
        ("    ├── ", "clean", ()),
        ("    │   └── ", "train", ()),
        ("    │       └── ", "report", ("profile",)),
        ("    └── ", "profile", ()),
    ]


def test_each_thread_captures_its_own_output() -> None:
    barrier = threading.Barrier(2, timeout=10)
    texts: dict[str, str] = {}
    streams = sys.stdout, sys.stderr

    def speak(name: str) -> None:
        with captured_output() as captured:
            barrier.wait()  # both capture at once
            for n in range(3):
                print(f"{name} {n}")
                sys.stderr.write(f"{name} err\n")
                barrier.wait()
        texts[name] = captured.text

    threads = [threading.Thread(target=speak, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert texts["a"] == "a 0\na err\na 1\na err\na 2\na err\n"
    assert texts["b"] == texts["a"].replace("a", "b")
    assert (sys.stdout, sys.stderr) == streams  # put back once no capture is active
