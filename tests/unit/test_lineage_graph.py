from __future__ import annotations

from datetime import UTC, datetime

import pytest

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import Direction, LineageEdge, LineageStep, Relation, check_depth
from noria.errors import InvalidArgument
from noria.lineage import LineageGraph

NOW = datetime(2026, 11, 23, tzinfo=UTC)
DATA = EntityRef(EntityKind.DATASET_VERSION, "credit/7")
RUN = EntityRef(EntityKind.RUN, "0193a5c1f2e07d3c9b1e4a6f8d2c0b7e")
MODEL = EntityRef(EntityKind.MODEL_VERSION, "credit-risk/3")


def test_graph_orders_entities_and_children_by_direction() -> None:
    steps = [
        LineageStep(LineageEdge(RUN, Relation.PRODUCED, MODEL), 1, NOW),
        LineageStep(LineageEdge(DATA, Relation.CONSUMED, RUN), 2, NOW),
    ]
    graph = LineageGraph(root=MODEL, direction=Direction.UPSTREAM, depth=5, steps=steps)
    assert graph.entities() == [RUN, DATA]
    assert [step.edge.upstream for step in graph.children(MODEL)] == [RUN]
    assert [step.edge.upstream for step in graph.children(RUN)] == [DATA]


def test_self_edges_and_bad_depths_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="itself"):
        LineageEdge(RUN, Relation.PRODUCED, RUN)
    for depth in (0, 101):
        with pytest.raises(InvalidArgument, match="1 to 100"):
            check_depth(depth)
