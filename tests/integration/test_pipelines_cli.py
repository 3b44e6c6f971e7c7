"""`noria pipelines …` end to end in a real process, as a user or a CI job runs it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.integration.test_cli import assert_one_line_error, noria

FLOWS = """
    from collections.abc import Iterator

    import noria

    @noria.step
    def load(n: int) -> list[int]:
        print(f"loading {n}")
        return list(range(n))

    @noria.step
    def total(values: list[int], scale: float = 1.0) -> float:
        return sum(values) * scale

    @noria.step
    def boom(values: list[int]) -> int:
        raise ValueError("no good")

    @noria.step
    def shown(value: int) -> str:
        return str(value)

    @noria.step
    def stream(n: int) -> Iterator[int]:
        yield from range(n)

    @noria.pipeline
    def demo(n: int, scale: float = 1.0):
        total(load(n), scale=scale)

    @noria.pipeline
    def failing(n: int = 3):
        values = load(n)
        shown(boom(values))
        total(values)

    @noria.pipeline
    def cyclic(n: int = 3):
        values = load.with_options(after=["total"])(n)
        total(values)

    @noria.pipeline
    def unstorable(n: int = 3):
        stream(n)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "flows.py").write_text(textwrap.dedent(FLOWS))
    return folder


def run_in(project: Path, *args: str) -> tuple[int, str, str]:
    result = noria(project / ".noria", *args)
    return result.code, result.out, result.err


def test_run_runs_show_and_cache_clear(project: Path) -> None:
    flows = f"{project / 'flows.py'}:demo"
    home = project / ".noria"
    first = noria(home, "pipelines", "run", flows, "--param", "n=4", "-p", "scale=0.5", "--json")
    assert first.code == 0, first.err
    body = first.json()
    assert (body["status"], body["params"]) == ("SUCCEEDED", {"n": 4, "scale": 0.5})
    assert [step["cache_hit"] for step in body["steps"]] == [False, False]

    again = noria(home, "pipelines", "run", flows, "-p", "n=4", "-p", "scale=0.5")
    assert again.code == 0, again.err
    assert "SUCCEEDED" in again.out and again.out.count("cached") == 2

    listed = noria(home, "pipelines", "runs", "--json").json()["runs"]
    assert [run["id"] for run in listed][1] == body["id"] and len(listed) == 2
    shown = noria(home, "pipelines", "show", body["id"])
    assert shown.code == 0 and "└── load" in shown.out and "    └── total" in shown.out

    cleared = noria(home, "pipelines", "cache", "clear", "--step", "load")
    assert (cleared.code, cleared.out.strip()) == (0, "Cleared 1 cached step result.")
    third = noria(home, "pipelines", "run", flows, "-p", "n=4", "-p", "scale=0.5", "--json")
    assert [step["cache_hit"] for step in third.json()["steps"]] == [False, True]
    audit = noria(home, "audit", "--json").json()["events"]
    assert audit[0]["action"] == "pipeline.cache_cleared"


def test_a_failed_run_shows_the_dag_and_exits_with_one_error_line(project: Path) -> None:
    result = noria(project / ".noria", "pipelines", "run", f"{project / 'flows.py'}:failing")
    assert_one_line_error(
        result, "Pipeline 'failing' run", "step 'boom' failed: ValueError: no good"
    )
    assert "noria pipelines show" in result.err
    assert "failed" in result.out and "skipped" in result.out and "succeeded" in result.out


@pytest.mark.parametrize(
    ("target", "args", "fragments"),
    [
        ("cyclic", (), ("flows.py:", "the steps form a cycle: load")),
        ("demo", (), ("flows.py:", "pipeline 'demo' is missing parameter 'n'")),
        ("demo", ("-p", "n=many"), ("parameter n='many' (from --param) is not a valid int",)),
        ("unstorable", (), ("flows.py:", "step 'stream' returns an iterator")),
        ("demo", ("-p", "n=2", "--executor", "spark"), ("Unknown executor 'spark'",)),
        ("nothing", (), ("has no 'nothing'",)),
    ],
)
def test_bad_input_is_one_clear_line(
    project: Path, target: str, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    result = noria(
        project / ".noria", "pipelines", "run", f"{project / 'flows.py'}:{target}", *args
    )
    assert_one_line_error(result, *fragments)


def test_lint_lists_every_problem_with_its_line(project: Path) -> None:
    flows = project / "flows.py"
    clean = noria(project / ".noria", "pipelines", "lint", f"{flows}:demo", "-p", "n=1")
    assert (clean.code, clean.out.strip()) == (0, "demo: no problems found.")
    bad = noria(project / ".noria", "pipelines", "lint", f"{flows}:cyclic", "--json")
    assert bad.code == 1
    [problem] = bad.json()["problems"]
    assert problem["file"] == str(flows)
    source = flows.read_text().splitlines()
    assert "load.with_options" in source[problem["line"] - 1]
