"""Graph checks before anything runs: each problem names the file and line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.errors import InvalidArgument
from noria.pipelines.authoring import Pipeline
from noria.pipelines.checks import find_cycle
from noria.pipelines.params import require_no_problems
from tests.unit.pipelines.workspace import Workspace

FLOWS = """
    from collections.abc import Iterator

    import noria

    @noria.step
    def numbers(n: int) -> list[int]:
        return list(range(n))

    @noria.step
    def total(values: list[int]) -> int:
        return sum(values)

    @noria.step
    def shout(text: str) -> str:
        return text.upper()

    @noria.step
    def stream(n: int) -> Iterator[int]:  # def-stream
        yield from range(n)

    @noria.step
    def split(values: list[int]) -> tuple[list[int], list[int]]:
        return values[:1], values[1:]

    @noria.pipeline
    def good(n: int = 3):
        head, tail = split(numbers(n))
        total(head)
        total(tail)

    @noria.pipeline
    def cyclic(n: int = 3):
        first = numbers.with_options(after=["total"])(n)  # first-call
        total(first)  # cycle-call

    @noria.pipeline
    def mistyped(n: int = 3):
        shout(total(numbers(n)))  # mistyped-call

    @noria.pipeline
    def bad_calls(n: int = 3):
        total(numbers(n), extra=1)  # unknown-call
        total()  # missing-call
        total.with_options(after=["nowhere"])(numbers(n))  # after-call

    @noria.pipeline
    def unstorable(n: int = 3):
        stream(n)

    @noria.pipeline
    def misuse(n: int = 3):
        values = numbers(n)
        values.append(4)  # misuse-line

    @noria.pipeline
    def needs(path: str, rate: float = 0.1):  # needs-def
        numbers(3)
"""


@pytest.fixture
def flows(space: Workspace) -> Workspace:
    space.write("flows", FLOWS)
    return space


def problems_of(space: Workspace, name: str, **kwargs: object) -> list[str]:
    pipeline: Pipeline = getattr(space.load("flows"), name)
    return [str(problem) for problem in pipeline.lint(**kwargs)]  # type: ignore[arg-type]


def at(space: Workspace, marker: str, offset: int = 0) -> str:
    """``file:line`` of the line holding ``marker`` (plus ``offset`` lines)."""
    path = space.folder / f"{space.name('flows')}.py"
    return f"{path}:{space.line_of('flows', marker) + offset}"


def test_a_sound_pipeline_has_no_problems(flows: Workspace) -> None:
    assert problems_of(flows, "good") == []
    graph = flows.load("flows").good.build({"n": 3})
    assert list(graph.nodes) == ["numbers", "split", "total", "total_2"]
    assert graph.nodes["total_2"].inputs["values"].name == "output_1"
    assert graph.nodes["split"].upstream == ("numbers",)


def test_a_cycle_is_reported_with_both_calls(flows: Workspace) -> None:
    [problem] = problems_of(flows, "cyclic")
    assert problem.startswith(at(flows, "first-call") + ": the steps form a cycle: ")
    assert at(flows, "cycle-call") in problem
    graph = flows.load("flows").cyclic.build({"n": 3})
    assert find_cycle(graph) == ["numbers", "total", "numbers"]


def test_a_mistyped_input_names_both_types(flows: Workspace) -> None:
    assert problems_of(flows, "mistyped") == [
        f"{at(flows, 'mistyped-call')}: step 'shout' parameter 'text' expects str, "
        "but step 'total' returns int"
    ]


def test_bad_calls_are_each_reported_at_their_line(flows: Workspace) -> None:
    problems = problems_of(flows, "bad_calls")
    assert problems == [
        f"{at(flows, 'unknown-call')}: step 'total' has no parameter 'extra'; "
        "its parameters are: values",
        f"{at(flows, 'missing-call')}: step 'total_2' is missing parameter 'values' "
        "(it has no default): pass a value or another step's output",
        f"{at(flows, 'after-call')}: step 'total_3' runs after 'nowhere', which is no step here",
    ]


def test_an_output_that_cannot_be_stored_is_reported_at_the_step(flows: Workspace) -> None:
    [problem] = problems_of(flows, "unstorable")
    assert problem.startswith(at(flows, "def-stream", -1) + ": step 'stream' returns an iterator")
    assert "(Iterator[int]), which cannot be stored as an artifact" in problem


def test_using_a_placeholder_as_a_value_is_explained(flows: Workspace) -> None:
    [problem] = problems_of(flows, "misuse")
    assert problem.startswith(at(flows, "misuse-line") + ": the pipeline function failed")
    assert "Cannot read .append on the output of step 'numbers'" in problem


def test_parameters_missing_unknown_or_mistyped(flows: Workspace, tmp_path: Path) -> None:
    [missing] = problems_of(flows, "needs")
    assert missing.startswith(
        at(flows, "needs-def", -1) + ": pipeline 'needs' is missing parameter 'path' "
        "(it has no default): pass --param path=VALUE"
    )

    problems = problems_of(flows, "needs", cli_params=["path=x", "rate=fast", "speed=2"])
    assert [p.split(": ", 1)[1] for p in problems] == [
        "parameter rate='fast' (from --param) is not a valid float: Input should be a valid "
        "number, unable to parse string as a number",
        "pipeline 'needs' has no parameter 'speed' (from --param); its parameters are: path, rate",
    ]

    config = tmp_path / "params.yaml"
    config.write_text("params:\n  path: data.csv\n  rate: [1]\n")
    [bad] = problems_of(flows, "needs", config=config)
    assert bad.startswith(f"{config}:3: parameter rate=[1] (from config) is not a valid float")


def test_steps_inside_functions_cannot_go_to_other_processes() -> None:
    import noria

    @noria.step
    def local_step(x: int) -> int:
        return x

    @noria.pipeline
    def local_flow(x: int = 1) -> None:
        local_step(x)

    assert local_flow.lint() == []
    [problem] = local_flow.lint(executor="local:processes")
    assert "cannot run on the local:processes executor: it is defined inside a function" in str(
        problem
    )


def test_require_no_problems_raises_the_first_on_one_line(flows: Workspace) -> None:
    problems = flows.load("flows").bad_calls.lint()
    with pytest.raises(InvalidArgument) as raised:
        require_no_problems(problems)
    message = raised.value.message
    assert "\n" not in message
    assert message.startswith(at(flows, "unknown-call"))
    assert message.endswith("(and 2 more problems: run `noria pipelines lint`)")


def test_steps_take_named_parameters_only_and_are_not_async() -> None:
    import noria

    with pytest.raises(InvalidArgument, match=r"step 'spread' takes \*args"):

        @noria.step
        def spread(*args: int) -> int:
            return sum(args)

    with pytest.raises(InvalidArgument, match=r"step 'later' is async"):

        @noria.step
        async def later(x: int) -> int:
            return x
