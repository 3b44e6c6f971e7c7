"""Lineage shapes: edges to record, steps of a walk."""

from __future__ import annotations

from datetime import datetime

from noria.domain.lineage import Direction, LineageEdge, LineageStep, Relation
from noria.wire.common import EntityBody, WireModel


class EdgeBody(WireModel):
    upstream: EntityBody
    relation: Relation
    downstream: EntityBody

    @classmethod
    def from_domain(cls, edge: LineageEdge) -> EdgeBody:
        return cls(
            upstream=EntityBody.from_domain(edge.upstream),
            relation=edge.relation,
            downstream=EntityBody.from_domain(edge.downstream),
        )

    def to_domain(self) -> LineageEdge:
        return LineageEdge(self.upstream.to_domain(), self.relation, self.downstream.to_domain())


class AddEdgesRequest(WireModel):
    edges: list[EdgeBody]


class AddEdgesResponse(WireModel):
    added: int


class StepBody(WireModel):
    edge: EdgeBody
    depth: int
    recorded_at: datetime

    @classmethod
    def from_domain(cls, step: LineageStep) -> StepBody:
        edge = EdgeBody.from_domain(step.edge)
        return cls(edge=edge, depth=step.depth, recorded_at=step.recorded_at)

    def to_domain(self) -> LineageStep:
        return LineageStep(self.edge.to_domain(), self.depth, self.recorded_at)


class WalkResponse(WireModel):
    start: EntityBody
    direction: Direction
    depth: int
    steps: list[StepBody]
