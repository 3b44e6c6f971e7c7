"""Lineage: directed edges from an upstream entity to a downstream one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from noria.domain.entities import EntityRef
from noria.errors import InvalidArgument

MAX_DEPTH = 100


class Relation(StrEnum):
    """What the downstream entity did with the upstream one.

    Edges always point the way data flows, so "upstream of X" means "what X came from".
    """

    CONSUMED = "consumed"  # dataset_version → run that read it
    PRODUCED = "produced"  # run → artifact / model_version / dataset_version it wrote
    DERIVED_FROM = "derived_from"  # older version → version made from it
    DEPLOYED_AS = "deployed_as"  # model_version → deployment serving it
    TRIGGERED = "triggered"  # alert / schedule → pipeline_run it started


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


@dataclass(frozen=True, slots=True)
class LineageEdge:
    upstream: EntityRef
    relation: Relation
    downstream: EntityRef

    def __post_init__(self) -> None:
        if self.upstream == self.downstream:
            raise InvalidArgument(f"A lineage edge cannot point {self.upstream} at itself.")

    def end(self, direction: Direction) -> EntityRef:
        """The entity at the far end when walking in ``direction``."""
        return self.upstream if direction is Direction.UPSTREAM else self.downstream

    def start(self, direction: Direction) -> EntityRef:
        """The entity at the near end when walking in ``direction``."""
        return self.downstream if direction is Direction.UPSTREAM else self.upstream


@dataclass(frozen=True, slots=True)
class LineageStep:
    """One edge reached while walking the graph, ``depth`` hops from the start."""

    edge: LineageEdge
    depth: int
    recorded_at: datetime


def check_depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidArgument(f"Lineage depth {depth} is out of range: use 1 to {MAX_DEPTH}.")
    return depth
