"""Step caching end to end on a real store: what hits, and each change that misses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from noria.client import Client, connect
from noria.domain.artifacts import Digest
from noria.pipelines.results import PipelineResult
from noria.settings import Settings
from tests.unit.pipelines.workspace import Workspace, workspace

HELPERS = """
    def adjust(value):
        return value + 1
"""

FLOW = """
    import hashlib
    from pathlib import Path

    import noria
    import helpers_{suffix} as helpers

    def file_digest(path):
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()

    @noria.step(cache_key=file_digest)
    def read(path: str) -> list[int]:
        return [int(line) for line in Path(path).read_text().split()]

    @noria.step
    def scale(values: list[int], factor: int = 2) -> list[int]:
        return [helpers.adjust(v) * factor for v in values]

    @noria.step
    def total(values: list[int]) -> int:
        return sum(values)

    @noria.step(cache=False)
    def announce(value: int) -> str:
        return f"total is {value}"

    @noria.pipeline
    def flow(path: str, factor: int = 2):
        announce(total(scale(read(path), factor=factor)))
"""


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with connect(settings) as opened:
        yield opened


@pytest.fixture
def space(tmp_path: Path) -> Iterator[Workspace]:
    with workspace(tmp_path / "flows") as created:
        created.write("helpers", HELPERS)
        created.write("flow", FLOW)
        yield created


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.txt"
    path.write_text("1\n2\n3\n")
    return path


def run(module: ModuleType, client: Client, data: Path, **params: Any) -> PipelineResult:
    result: PipelineResult = module.flow.run(params={"path": str(data), **params}, client=client)
    return result


def executed(result: PipelineResult) -> list[str]:
    return [name for name, step in result.steps.items() if not step.cache_hit]


def test_same_inputs_hit_and_cache_false_always_runs(
    space: Workspace, client: Client, data: Path
) -> None:
    module = space.load("flow")
    first = run(module, client, data)
    assert executed(first) == ["read", "scale", "total", "announce"]
    assert first.output("announce") == "total is 18"  # (2+3+4) * 2
    second = run(module, client, data)
    assert executed(second) == ["announce"]
    cached = second.step("total")
    assert cached.cached_from == first.step("total").id
    assert cached.outputs == first.step("total").outputs
    assert second.output("total") == 18


def test_a_changed_parameter_misses_from_that_step_on(
    space: Workspace, client: Client, data: Path
) -> None:
    module = space.load("flow")
    run(module, client, data)
    changed = run(module, client, data, factor=3)
    assert executed(changed) == ["scale", "total", "announce"]
    assert changed.output("total") == 27


def test_changed_input_data_misses_and_equal_data_hits(
    space: Workspace, client: Client, data: Path
) -> None:
    module = space.load("flow")
    run(module, client, data)
    data.write_text("1\n2\n4\n")
    assert executed(run(module, client, data)) == ["read", "scale", "total", "announce"]
    data.write_text("4\n2\n1\n")  # new file content, same sum downstream of scale
    again = run(module, client, data)
    assert executed(again) == ["read", "scale", "total", "announce"]
    data.write_text("1\n2\n4\n")  # the content of two runs ago: all cached again
    assert executed(run(module, client, data)) == ["announce"]


def test_changed_step_code_misses_from_that_step_on(
    space: Workspace, client: Client, data: Path
) -> None:
    run(space.load("flow"), client, data)
    space.write("flow", FLOW.replace("return sum(values)", "return sum(values) + 100"))
    changed = run(space.load("flow"), client, data)
    assert executed(changed) == ["total", "announce"]
    assert changed.output("total") == 118


def test_a_changed_local_module_misses_for_the_steps_using_it(
    space: Workspace, client: Client, data: Path
) -> None:
    run(space.load("flow"), client, data)
    space.write("helpers", HELPERS.replace("value + 1", "value + 2"))
    changed = run(space.load("flow"), client, data)
    assert executed(changed) == ["scale", "total", "announce"]
    assert changed.output("total") == 24


def test_missing_outputs_max_age_and_clearing_miss(
    space: Workspace, client: Client, data: Path, settings: Settings
) -> None:
    module = space.load("flow")
    first = run(module, client, data)
    # An output deleted from the artifact store cannot be reused.
    client.blobs.delete(Digest.parse(first.step("scale").outputs[0].digest).blob_key)
    assert executed(run(module, client, data)) == ["scale", "announce"]

    assert client.metadata.pipelines.clear_cache(step="read") == 1
    assert executed(run(module, client, data)) == ["read", "announce"]
    assert client.metadata.pipelines.clear_cache(pipeline="flow") == 3

    aged_source = FLOW.replace(
        "@noria.step\n    def total", "@noria.step(max_age=0.001)\n    def total"
    )
    assert aged_source != FLOW
    space.write("flow", aged_source)
    aged = space.load("flow")
    assert executed(run(aged, client, data)) == ["read", "scale", "total", "announce"]  # cleared
    assert executed(run(aged, client, data)) == ["total", "announce"]  # a millisecond is old
