"""A pipeline run against a remote `noria server`: the same calls, records on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from noria.client import Client, connect
from noria.settings import Settings
from tests.conftest import RunningServer
from tests.unit.pipelines.workspace import workspace

pytestmark = pytest.mark.slow

FLOW = """
    import noria
    import pandas as pd

    @noria.step
    def frame(n: int) -> pd.DataFrame:
        return pd.DataFrame({"x": range(n)})

    @noria.step
    def total(data: pd.DataFrame) -> int:
        noria.log_metric("rows", len(data))
        return int(data["x"].sum())

    @noria.pipeline
    def remote_flow(n: int = 4):
        total(frame(n))
"""


@pytest.fixture
def flows(tmp_path: Path) -> Iterator[ModuleType]:
    with workspace(tmp_path / "flows") as space:
        space.write("flow", FLOW)
        yield space.load("flow")


@pytest.fixture
def remote(noria_server: RunningServer, tmp_path: Path) -> Iterator[Client]:
    settings = Settings(home=tmp_path / "client-home", store_uri=noria_server.url, user="remote")
    with connect(settings) as client:
        yield client


@pytest.mark.parametrize("executor", ["local", "local:processes"])
def test_a_pipeline_runs_against_a_server(
    flows: ModuleType, remote: Client, noria_server: RunningServer, executor: str
) -> None:
    first = flows.remote_flow.run(client=remote, executor=executor)
    assert first.output("total") == 6
    again = flows.remote_flow.run(client=remote, executor=executor)
    assert [step.cache_hit for step in again.steps.values()] == [True, True]

    # The server's own store holds the records, the tracking runs and the artifacts.
    with connect(Settings(home=noria_server.home)) as local:
        stored = local.metadata.pipelines.get_run(first.id)
        assert stored.executor == executor
        steps = local.metadata.pipelines.list_steps(first.id)
        assert [step.name for step in steps] == ["frame", "total"]
        child = local.tracker.get_run(steps[1].tracking_run_id or "")
        assert child.metrics["rows"].value == 4
