"""Record lineage edges and answer "where did this come from / what did it cause"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from noria.domain.entities import EntityRef
from noria.domain.lineage import Direction, LineageEdge, LineageStep, Relation, check_depth
from noria.ports.metadata import LineageRepo

DEFAULT_DEPTH = 10


@dataclass(frozen=True, slots=True)
class LineageGraph:
    """The edges reached from ``root`` in one direction, nearest first."""

    root: EntityRef
    direction: Direction
    depth: int
    steps: list[LineageStep]

    def entities(self) -> list[EntityRef]:
        """Every entity reached, without ``root``, in the order first reached."""
        seen: dict[EntityRef, None] = {}
        for step in self.steps:
            far = step.edge.end(self.direction)
            if far != self.root:
                seen.setdefault(far, None)
        return list(seen)

    def children(self, entity: EntityRef) -> list[LineageStep]:
        """Steps one hop further from ``root`` than ``entity``."""
        return [step for step in self.steps if step.edge.start(self.direction) == entity]


class LineageService:
    def __init__(self, repo: LineageRepo) -> None:
        self._repo = repo

    def record(self, upstream: EntityRef, relation: Relation, downstream: EntityRef) -> bool:
        """Record one edge; ``False`` when it was already known."""
        return self._repo.add_edges([LineageEdge(upstream, relation, downstream)]) == 1

    def record_many(self, edges: Sequence[LineageEdge]) -> int:
        return self._repo.add_edges(list(edges)) if edges else 0

    def upstream(self, entity: EntityRef, *, depth: int = DEFAULT_DEPTH) -> LineageGraph:
        return self._graph(entity, Direction.UPSTREAM, depth)

    def downstream(self, entity: EntityRef, *, depth: int = DEFAULT_DEPTH) -> LineageGraph:
        return self._graph(entity, Direction.DOWNSTREAM, depth)

    def _graph(self, entity: EntityRef, direction: Direction, depth: int) -> LineageGraph:
        steps = self._repo.walk(entity, direction, depth=check_depth(depth))
        return LineageGraph(root=entity, direction=direction, depth=depth, steps=steps)
