"""Checks on a built graph, before anything runs: each problem with its file and line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.pipelines.graph import Graph, StepNode
from noria.pipelines.hints import MISSING, compatible, type_name, unstorable_reason
from noria.pipelines.locations import Problem
from noria.pipelines.params import resolve_params

if TYPE_CHECKING:
    from noria.pipelines.authoring import Pipeline
    from noria.ports.executors import Executor


def _unknown_after(graph: Graph) -> list[Problem]:
    return [
        Problem(node.location, f"step {node.name!r} runs after {name!r}, which is no step here")
        for node in graph.nodes.values()
        for name in node.after
        if name not in graph.nodes
    ]


def find_cycle(graph: Graph) -> list[str]:
    """Step names around one cycle (first name repeated at the end), or [] when acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        path.append(name)
        for upstream in graph.nodes[name].upstream:
            if upstream not in graph.nodes:
                continue
            if state.get(upstream) == 1:
                return [*path[path.index(upstream) :], upstream]
            if upstream not in state and (cycle := visit(upstream)):
                return cycle
        path.pop()
        state[name] = 2
        return []

    for name in graph.nodes:
        if name not in state and (cycle := visit(name)):
            # Walked against the edges: reverse to read in the direction data flows.
            return cycle[::-1]
    return []


def _cycle_problems(graph: Graph) -> list[Problem]:
    cycle = find_cycle(graph)
    if not cycle:
        return []
    shown = " → ".join(f"{name} ({graph.nodes[name].location})" for name in cycle)
    return [Problem(graph.nodes[cycle[0]].location, f"the steps form a cycle: {shown}")]


def _type_problems(graph: Graph, node: StepNode) -> list[Problem]:
    problems = []
    for parameter, output in node.inputs.items():
        expected = node.step.hints.get(parameter, MISSING)
        if not compatible(output.annotation, expected):
            problems.append(
                Problem(
                    node.location,
                    f"step {node.name!r} parameter {parameter!r} expects "
                    f"{type_name(expected)}, but step {output.producer!r} returns "
                    f"{type_name(output.annotation)}",
                )
            )
    for output in node.outputs:
        reason = unstorable_reason(output.annotation)
        if reason is not None:
            problems.append(
                Problem(
                    node.step.location,
                    f"step {node.step.name!r} returns {reason} ({type_name(output.annotation)}), "
                    "which cannot be stored as an artifact: return data instead (a DataFrame, "
                    "an array, a model, JSON-able values)",
                )
            )
    return problems


def _portability_problems(node: StepNode, executor: str) -> list[Problem]:
    reference = node.step.reference
    if "<locals>" in reference.qualname:
        why = "it is defined inside a function"
    elif reference.module == "__main__" and reference.source_file is None:
        why = "it is defined in an interactive session"
    else:
        return []
    return [
        Problem(
            node.step.location,
            f"step {node.step.name!r} cannot run on the {executor} executor: {why}, so other "
            "processes cannot import it. Define it at the top level of a module.",
        )
    ]


def check_graph(graph: Graph, *, in_process: bool = True, executor: str = "local") -> list[Problem]:
    """Every problem in ``graph``: bad calls, unknown ``after`` names, cycles, mistyped inputs,
    unstorable outputs, and steps other processes cannot import (unless ``in_process``)."""
    problems = list(graph.problems)
    if not graph.nodes and not problems:
        problems.append(Problem(graph.location, f"pipeline {graph.pipeline!r} calls no steps"))
    problems += _unknown_after(graph)
    problems += _cycle_problems(graph)
    reported_steps: set[str] = set()
    for node in graph.nodes.values():
        for problem in _type_problems(graph, node):
            if problem not in problems:  # one step called twice repeats its output problems
                problems.append(problem)
        if not in_process and node.step.name not in reported_steps:
            reported_steps.add(node.step.name)
            problems += _portability_problems(node, executor)
    return problems


def lint_pipeline(
    pipeline: Pipeline,
    *,
    params: Mapping[str, Any],
    cli_params: Sequence[str] = (),
    config: str | Path | None = None,
    executor: str | Executor = "local",
) -> list[Problem]:
    """Parameter problems first; the graph is only built when the parameters are sound.

    ``executor`` by name assumes that only ``local`` runs steps in this process.
    """
    resolved, problems = resolve_params(
        pipeline, params=params, cli_params=cli_params, config=config
    )
    if problems:
        return problems
    if isinstance(executor, str):
        name, in_process = executor, executor in ("local", "local:threads")
    else:
        name, in_process = executor.name, executor.in_process
    return check_graph(pipeline.build(resolved), in_process=in_process, executor=name)
