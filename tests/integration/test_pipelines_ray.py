"""Pipelines on a real Ray cluster started by the test (`ray start --head` on 127.0.0.1),
joined by address: parallel branches, caching, retries, timeouts, hints, records, lineage."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from noria.client import Client, connect
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.pipelines import StepStatus
from noria.settings import Settings
from tests.conftest import require_service
from tests.integration.pipeline_checks import assert_ended_by_the_runner, statuses
from tests.ray_cluster import RayCluster, ray_cluster
from tests.unit.pipelines.workspace import workspace

pytestmark = pytest.mark.slow

FLOW = """
    import json
    import os
    import time
    from pathlib import Path

    import noria
    import pandas as pd

    def meet(folder, me, other):
        # Returns only once the other branch has started too: proof they ran at once.
        Path(folder, me).touch()
        deadline = time.monotonic() + 30
        while not Path(folder, other).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{other} never ran while {me} did")
            time.sleep(0.05)

    def attempt(folder, name):
        path = Path(folder) / f"{name}.attempts"
        count = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(count))
        return count

    @noria.step
    def source(n: int) -> pd.DataFrame:
        print(f"making {n} rows")
        noria.log_metric("rows", n)
        return pd.DataFrame({"x": range(n)})

    @noria.step
    def left(frame: pd.DataFrame, folder: str) -> int:
        meet(folder, "left", "right")
        return int(frame["x"].sum())

    @noria.step
    def right(frame: pd.DataFrame, folder: str) -> list[int]:
        meet(folder, "right", "left")
        return [int(value) * 2 for value in frame["x"]]

    @noria.step
    def join(total: int, doubled: list[int]) -> dict:
        return {"total": total, "doubled": sum(doubled)}

    @noria.pipeline
    def diamond(folder: str, n: int = 4):
        frame = source(n)
        join(left(frame, folder), right(frame, folder))

    @noria.step(retries=2, retry_backoff=0.05)
    def flaky(frame: pd.DataFrame, folder: str) -> int:
        if attempt(folder, "flaky") < 3:
            raise ConnectionError("the service is not there yet")
        return len(frame)

    @noria.step(retries=1, retry_backoff=0.05)
    def broken(frame: pd.DataFrame) -> int:
        raise ValueError(f"cannot use {len(frame)} rows")

    @noria.step
    def report(value: int) -> str:
        return f"value {value}"

    @noria.pipeline
    def failing(folder: str, n: int = 3):
        frame = source(n)
        report(flaky(frame, folder))
        report(broken(frame))

    # The timeout counts from submission: 8 s leaves a loaded machine time to start a Ray
    # worker (pandas, Noria) and write the pid before the step is cancelled.
    @noria.step(timeout=8, cache=False)
    def stuck(frame: pd.DataFrame, folder: str) -> int:
        Path(folder, "stuck.pid").write_text(str(os.getpid()))
        time.sleep(120)
        return 0

    @noria.step(cache=False)
    def count(frame: pd.DataFrame) -> int:
        return len(frame)

    @noria.pipeline
    def timing_out(folder: str, n: int = 3):
        frame = source(n)
        stuck(frame, folder)
        count(frame)

    @noria.step(num_cpus=2, memory=64 * 2**20, cache=False)
    def placed() -> dict:
        import ray

        assigned = ray.get_runtime_context().get_assigned_resources()
        return {"pid": os.getpid(), "assigned": assigned}

    @noria.pipeline
    def hinted():
        placed()

    @noria.pipeline
    def small(n: int = 3):
        count(source(n))
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    try:
        import ray
    except ImportError as exc:
        require_service("Ray", f"ray is not installed ({exc}): pip install 'noria[ray]'")
    with ray_cluster(num_cpus=2) as running:
        try:
            yield running
        finally:
            if ray.is_initialized():  # a failed test may leave its connection open
                ray.shutdown()


@pytest.fixture
def flows(tmp_path: Path) -> Iterator[ModuleType]:
    with workspace(tmp_path / "flows") as space:
        space.write("flow", FLOW)
        yield space.load("flow")


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


def test_a_diamond_runs_its_branches_at_once_and_is_cached_the_second_time(
    cluster: RayCluster, flows: ModuleType, client: Client, tmp_path: Path
) -> None:
    params = {"folder": str(tmp_path), "n": 4}
    first = flows.diamond.run(params=params, client=client, executor=cluster.spec)
    assert first.run.executor == cluster.spec
    assert statuses(first) == dict.fromkeys(["source", "left", "right", "join"], "succeeded")
    assert first.output("join") == {"total": 6, "doubled": 12}

    again = flows.diamond.run(params=params, client=client, executor=cluster.spec)
    assert statuses(again) == dict.fromkeys(["source", "left", "right", "join"], "cached")
    assert again.output("join") == {"total": 6, "doubled": 12}


def test_records_and_lineage_are_those_of_a_local_run(
    cluster: RayCluster, flows: ModuleType, client: Client, tmp_path: Path
) -> None:
    params = {"folder": str(tmp_path), "n": 5}
    on_ray = flows.diamond.run(params=params, client=client, executor=cluster.spec)
    with connect(Settings(home=tmp_path / "local-home", user="tester")) as other:
        local = flows.diamond.run(params=params, client=other, executor="local")
        assert [step.outputs for step in local.steps.values()] == [
            step.outputs for step in on_ray.steps.values()
        ]  # the same bytes under the same digests, whichever executor stored them

    pipeline_run = client.tracker.get_run(on_ray.run.tracking_run_id or "")
    source = on_ray.step("source")
    child = client.tracker.get_run(source.tracking_run_id or "")
    assert child.info.parent_id == pipeline_run.info.id
    assert child.metrics["rows"].value == 5  # logged inside the Ray task
    assert on_ray.logs("source") == "making 5 rows\n"

    output = source.outputs[0]
    upstream = client.lineage.upstream(output.entity(), depth=1).entities()
    assert upstream == [EntityRef(EntityKind.STEP_RUN, source.id)]
    consumers = client.lineage.downstream(output.entity(), depth=1).entities()
    assert {EntityRef(EntityKind.STEP_RUN, on_ray.step(name).id) for name in ("left", "right")} <= (
        set(consumers)
    )
    produced = client.lineage.downstream(source.entity(), depth=1).entities()
    assert EntityRef(EntityKind.RUN, child.info.id) in produced


def test_a_failing_step_is_retried_and_a_broken_one_stops_only_its_downstream(
    cluster: RayCluster, flows: ModuleType, client: Client, tmp_path: Path
) -> None:
    result = flows.failing.run(
        params={"folder": str(tmp_path)},
        client=client,
        executor=cluster.spec,
        raise_on_failure=False,
    )
    assert statuses(result) == {
        "source": "succeeded",
        "flaky": "succeeded",
        "report": "succeeded",
        "broken": "failed",
        "report_2": "skipped",
    }
    assert result.step("flaky").attempts == 3
    assert (tmp_path / "flaky.attempts").read_text() == "3"
    broken = result.step("broken")
    assert broken.attempts == 2
    assert (broken.error or "").startswith("ValueError: cannot use 3 rows")
    assert result.output("report") == "value 3"


def test_a_step_past_its_timeout_is_cancelled_and_its_worker_killed(
    cluster: RayCluster, flows: ModuleType, client: Client, tmp_path: Path
) -> None:
    import psutil

    started = time.monotonic()
    result = flows.timing_out.run(
        params={"folder": str(tmp_path)},
        client=client,
        executor=cluster.spec,
        raise_on_failure=False,
    )
    assert time.monotonic() - started < 60  # the 120 s sleep was not waited for
    assert statuses(result) == {"source": "succeeded", "stuck": "failed", "count": "succeeded"}
    assert result.step("stuck").error == "TimeoutError: timed out after 8 s"
    worker = int((tmp_path / "stuck.pid").read_text())
    assert worker != os.getpid()
    deadline = time.monotonic() + 30
    while psutil.pid_exists(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not psutil.pid_exists(worker), "ray.cancel(force=True) left the worker running"
    assert_ended_by_the_runner(client, result, "stuck")


def test_resource_hints_become_the_tasks_resources(
    cluster: RayCluster, flows: ModuleType, client: Client
) -> None:
    result = flows.hinted.run(client=client, executor=cluster.spec)
    placed = result.output("placed")
    assert placed["pid"] != os.getpid()
    assert placed["assigned"]["CPU"] == 2.0
    assert placed["assigned"]["memory"] == 64 * 2**20
    assert result.step("placed").status is StepStatus.SUCCEEDED


TUNED = """
    import os

    import noria
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.model_selection import cross_val_score

    @noria.step
    def fit(frame: pd.DataFrame, depth: int, criterion: str) -> float:
        print(os.getpid())
        model = DecisionTreeClassifier(max_depth=depth, criterion=criterion, random_state=0)
        features, target = frame.drop(columns="target"), frame["target"]
        return float(cross_val_score(model, features, target, cv=3).mean())
"""


def test_tuning_runs_each_trial_as_a_ray_task(
    cluster: RayCluster, client: Client, tmp_path: Path
) -> None:
    from sklearn.datasets import load_iris

    import noria
    from noria.pipelines.tuning import Choice, IntRange

    iris = load_iris(as_frame=True).frame
    with workspace(tmp_path / "tuned") as space:
        space.write("objectives", TUNED)
        fit = space.load("objectives").fit
        searches = {
            executor: noria.tune(
                fit,
                fixed={"frame": iris},
                space={"depth": IntRange(1, 5), "criterion": Choice(["gini", "entropy"])},
                metric="accuracy",
                trials=6,
                parallel=2,
                seed=11,
                executor=executor,
                client=client,
            )
            for executor in (cluster.spec, "local")
        }
    on_ray, local = searches[cluster.spec], searches["local"]
    assert on_ray.run.executor == cluster.spec
    assert [t.state for t in on_ray.trials] == ["COMPLETE"] * 6
    # Seeded: the same trials and the same best, whichever executor ran them.
    assert [t.params for t in on_ray.trials] == [t.params for t in local.trials]
    assert [t.value for t in on_ray.trials] == [t.value for t in local.trials]
    assert on_ray.best_params == local.best_params
    steps = client.metadata.pipelines.list_steps(on_ray.id)
    workers = {int(on_ray_logs(client, step.logs_digest)) for step in steps}
    assert os.getpid() not in workers
    for trial in on_ray.trials:
        child = client.tracker.get_run(trial.tracking_run_id or "")
        assert child.info.parent_id == on_ray.tracking_run_id
        assert child.metrics["accuracy"].value == trial.value


def on_ray_logs(client: Client, digest: str | None) -> str:
    from noria.domain.artifacts import Digest

    return client.artifacts.get_bytes(Digest.parse(digest or "")).decode()


def test_ray_local_starts_a_ray_for_the_run_and_stops_it_after(
    flows: ModuleType, client: Client
) -> None:
    import ray

    from noria.backends.schemes import executor_for

    assert not ray.is_initialized()
    executor = executor_for("ray:local", client.settings, max_workers=1)
    try:
        result = flows.small.run(params={"n": 7}, client=client, executor=executor)
        assert executor.capacity == 1  # the local Ray was started with --max-workers CPUs
        assert ray.cluster_resources()["CPU"] == 1.0
    finally:
        executor.close()
    assert not ray.is_initialized()  # started by the executor, so shut down by it
    assert result.run.executor == "ray:local"
    assert result.output("count") == 7
