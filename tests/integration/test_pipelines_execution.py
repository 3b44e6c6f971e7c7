"""Running pipelines: retries, timeouts, failure propagation, resume, parallelism, records."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from noria.client import Client, connect
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.pipelines import PipelineStatus, StepStatus
from noria.pipelines.results import PipelineFailed, PipelineResult
from noria.pipelines.values import PickledOutputWarning
from noria.settings import Settings
from tests.integration.pipeline_checks import assert_ended_by_the_runner, statuses
from tests.unit.pipelines.workspace import workspace

FLOW = """
    import json
    import os
    import threading
    import time
    from pathlib import Path

    import noria

    BARRIER = threading.Barrier(2, timeout=20)

    def attempt(folder, name):
        # Count attempts in a file: the count survives retries (and processes).
        path = Path(folder) / f"{name}.attempts"
        times = json.loads(path.read_text()) if path.exists() else []
        times.append(time.monotonic())
        path.write_text(json.dumps(times))
        return len(times)

    @noria.step
    def source(n: int) -> list[int]:
        print(f"making {n} numbers")
        noria.log_metric("count", n)
        return list(range(n))

    @noria.step(retries=3, retry_backoff=0.05)
    def flaky(values: list[int], folder: str) -> int:
        if attempt(folder, "flaky") < 3:
            raise ConnectionError("the service is not there yet")
        return sum(values)

    @noria.step(retries=1, retry_backoff=0.01)
    def broken(values: list[int]) -> int:
        raise ValueError(f"cannot use {len(values)} values")

    @noria.step(timeout=0.3)
    def slow(values: list[int]) -> int:
        for _ in range(1000):
            time.sleep(0.01)
        return 0

    @noria.step
    def fragile(values: list[int], folder: str) -> int:
        if (Path(folder) / "break").exists():
            raise RuntimeError("broken on purpose")
        return len(values)

    @noria.step
    def report(value: int) -> str:
        return f"value {value}"

    @noria.step(cache=False)
    def meet(values: list[int]) -> int:
        BARRIER.wait()  # returns only when two steps wait here at once
        return len(values)

    @noria.step(cache=False)
    def where(values: list[int]) -> int:
        return os.getpid()

    @noria.step(timeout=1.0, cache=False)
    def stuck(values: list[int]) -> int:
        time.sleep(60)
        return 0

    @noria.pipeline
    def retrying(folder: str, n: int = 3):
        report(flaky(source(n), folder))

    @noria.pipeline
    def failing(n: int = 3):
        values = source(n)
        report(broken(values))
        report(len_of(values))

    @noria.pipeline
    def timing_out(n: int = 3):
        values = source(n)
        report(slow(values))
        report(len_of(values))

    @noria.pipeline
    def resumable(folder: str, n: int = 3):
        report(fragile(source(n), folder))

    @noria.pipeline
    def branches(n: int = 3):
        values = source(n)
        meet(values)
        meet(values)

    @noria.pipeline
    def one_meeting(n: int = 3):
        meet(source(n))

    @noria.pipeline
    def elsewhere(n: int = 3):
        values = source(n)
        report(where(values))
        stuck(values)

    @noria.step
    def len_of(values: list[int]) -> int:
        return len(values)

    @noria.step
    def as_set(values: list[int]) -> set[int]:
        return set(values)

    @noria.step
    def size(values: set[int]) -> int:
        return len(values)

    @noria.pipeline
    def unusual(n: int = 3):
        size(as_set(source(n)))
"""


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


@pytest.fixture
def flows(tmp_path: Path) -> Iterator[ModuleType]:
    with workspace(tmp_path / "flows") as space:
        space.write("flow", FLOW)
        yield space.load("flow")


def test_retries_back_off_until_the_step_succeeds(
    flows: ModuleType, client: Client, tmp_path: Path
) -> None:
    result = flows.retrying.run(params={"folder": str(tmp_path)}, client=client)
    step = result.step("flaky")
    assert (step.status, step.attempts, step.error) == (StepStatus.SUCCEEDED, 3, None)
    times = json.loads((tmp_path / "flaky.attempts").read_text())
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1  # doubling backoff
    assert result.output("report") == "value 3"


def test_a_failure_stops_only_its_downstream(flows: ModuleType, client: Client) -> None:
    with pytest.raises(PipelineFailed) as raised:
        flows.failing.run(client=client)
    result = raised.value.result
    assert statuses(result) == {
        "source": "succeeded",
        "broken": "failed",
        "report": "skipped",
        "len_of": "succeeded",
        "report_2": "succeeded",
    }
    broken = result.step("broken")
    assert broken.attempts == 2
    assert broken.error is not None and broken.error.startswith("ValueError: cannot use 3 values")
    assert "Traceback" in broken.error
    assert result.step("report").error == "skipped: upstream step 'broken' failed"
    message = raised.value.message
    assert "\n" not in message
    assert "step 'broken' failed: ValueError: cannot use 3 values" in message
    stored = client.metadata.pipelines.get_run(result.id)
    assert stored.status is PipelineStatus.FAILED and stored.ended_at is not None


def test_a_step_past_its_timeout_fails_and_the_rest_goes_on(
    flows: ModuleType, client: Client
) -> None:
    started = time.monotonic()
    result = flows.timing_out.run(client=client, raise_on_failure=False)
    assert time.monotonic() - started < 8  # the 10 s step was abandoned
    assert statuses(result) == {
        "source": "succeeded",
        "slow": "failed",
        "report": "skipped",
        "len_of": "succeeded",
        "report_2": "succeeded",
    }
    assert result.step("slow").error == "TimeoutError: timed out after 0.3 s"


def test_a_rerun_after_a_failure_resumes_at_the_failed_step(
    flows: ModuleType, client: Client, tmp_path: Path
) -> None:
    (tmp_path / "break").touch()
    params = {"folder": str(tmp_path)}
    failed = flows.resumable.run(params=params, client=client, raise_on_failure=False)
    assert statuses(failed) == {"source": "succeeded", "fragile": "failed", "report": "skipped"}
    (tmp_path / "break").unlink()
    resumed = flows.resumable.run(params=params, client=client)
    assert statuses(resumed) == {"source": "cached", "fragile": "succeeded", "report": "succeeded"}


def test_independent_branches_run_at_the_same_time(flows: ModuleType, client: Client) -> None:
    result = flows.branches.run(client=client)  # each `meet` waits for the other
    assert statuses(result) == {"source": "succeeded", "meet": "succeeded", "meet_2": "succeeded"}


def test_two_pipeline_runs_at_once_do_not_block_each_other(
    flows: ModuleType, client: Client
) -> None:
    results: list[PipelineResult] = []
    errors: list[BaseException] = []

    def run_one(n: int) -> None:
        try:  # both first runs also race to create the pipeline's experiment
            results.append(flows.one_meeting.run(params={"n": n}, client=client))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run_one, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Each run's `meet` waits for the other run's: both finish only if both ran at once.
    assert errors == []
    assert sorted(result.output("meet") for result in results) == [2, 3]


def test_an_output_without_a_typed_serialiser_is_pickled_with_a_warning(
    flows: ModuleType, client: Client
) -> None:
    with pytest.warns(PickledOutputWarning, match="'as_set' output 'output' \\(builtins.set\\)"):
        result = flows.unusual.run(client=client)
    assert result.step("as_set").outputs[0].serializer == "pickle"
    assert result.output("as_set") == {0, 1, 2}
    assert result.output("size") == 3


def test_records_tracking_runs_lineage_and_logs(flows: ModuleType, client: Client) -> None:
    result = flows.failing.run(params={"n": 4}, client=client, raise_on_failure=False)
    run = result.run
    assert (run.pipeline, run.executor, run.params) == ("failing", "local", {"n": 4})
    pipeline_run = client.tracker.get_run(run.tracking_run_id or "")
    assert pipeline_run.params == {"n": "4"}
    assert pipeline_run.tags["noria.pipeline_run_id"] == run.id
    source = result.step("source")
    child = client.tracker.get_run(source.tracking_run_id or "")
    assert child.info.parent_id == pipeline_run.info.id
    assert child.metrics["count"].value == 4
    assert result.logs("source") == "making 4 numbers\n"

    output = source.outputs[0]
    upstream = client.lineage.upstream(output.entity(), depth=1).entities()
    assert upstream == [EntityRef(EntityKind.STEP_RUN, source.id)]
    consumers = client.lineage.downstream(output.entity(), depth=1).entities()
    assert EntityRef(EntityKind.STEP_RUN, result.step("len_of").id) in consumers
    made = set(client.lineage.downstream(run.entity(), depth=1).entities())
    succeeded = {step.id for step in result.steps.values() if step.status is StepStatus.SUCCEEDED}
    assert made == {EntityRef(EntityKind.RUN, pipeline_run.info.id)} | {
        EntityRef(EntityKind.STEP_RUN, step_id) for step_id in succeeded
    }
    # ... and through its steps, their tracking runs
    reached = client.lineage.downstream(run.entity(), depth=2).entities()
    assert EntityRef(EntityKind.RUN, child.info.id) in reached

    listed = client.metadata.pipelines.list_runs(pipeline="failing").items
    assert [item.id for item in listed] == [run.id]


def test_the_process_executor_runs_steps_elsewhere_and_kills_them_on_timeout(
    flows: ModuleType, client: Client
) -> None:
    started = time.monotonic()
    result = flows.elsewhere.run(client=client, executor="local:processes", raise_on_failure=False)
    assert time.monotonic() - started < 40  # the 60 s sleep was killed
    assert result.run.executor == "local:processes"
    assert statuses(result) == {
        "source": "succeeded",
        "where": "succeeded",
        "report": "succeeded",
        "stuck": "failed",
    }
    import os

    assert result.output("where") != os.getpid()
    assert result.step("stuck").error == "TimeoutError: timed out after 1 s"
    assert result.logs("source") == "making 3 numbers\n"
    # No marker says the step got as far as its run before the 1 s timeout under load.
    assert_ended_by_the_runner(client, result, "stuck", started=False)
