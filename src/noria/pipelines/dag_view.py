"""A pipeline run's DAG laid out as an indented tree, for a terminal.

Each step appears once, under the first step it waits for (its other upstream steps are
named beside it), in an order where every step comes after all it waits for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from noria.domain.pipelines import StepRun, StepStatus


@dataclass(frozen=True, slots=True)
class DagLine:
    prefix: str  # the tree drawing before the step, e.g. "│   ├── "
    step: StepRun
    also_after: tuple[str, ...]  # upstream steps other than the one it hangs under

    @property
    def label(self) -> str:
        """``succeeded``, ``cached``, ``failed``, …"""
        if self.step.status is StepStatus.SUCCEEDED and self.step.cache_hit:
            return "cached"
        return self.step.status.value.lower()


def topological(steps: Sequence[StepRun]) -> list[StepRun]:
    """Steps ordered so that each follows everything it waits for (declared order on ties)."""
    by_name = {step.name: step for step in steps}
    placed: dict[str, StepRun] = {}
    remaining = list(steps)
    while remaining:
        progressed = False
        for step in list(remaining):
            if all(up in placed or up not in by_name for up in step.upstream):
                placed[step.name] = step
                remaining.remove(step)
                progressed = True
        if not progressed:  # a cycle cannot be recorded, but never loop forever on one
            placed.update((step.name, step) for step in remaining)
            break
    return list(placed.values())


def layout(steps: Sequence[StepRun]) -> list[DagLine]:
    ordered = topological(steps)
    names = {step.name for step in ordered}
    children: dict[str | None, list[StepRun]] = {}
    for step in ordered:
        parents = [up for up in step.upstream if up in names]
        children.setdefault(parents[0] if parents else None, []).append(step)
    lines: list[DagLine] = []

    def place(parent: str | None, indent: str) -> None:
        kids = children.get(parent, [])
        for position, step in enumerate(kids):
            last = position == len(kids) - 1
            branch = "└── " if last else "├── "
            others = tuple(up for up in step.upstream if up in names and up != parent)
            lines.append(DagLine(indent + branch, step, others))
            place(step.name, indent + ("    " if last else "│   "))

    place(None, "")
    return lines
