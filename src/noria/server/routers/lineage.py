"""Record lineage edges and walk the graph."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from noria.domain.lineage import MAX_DEPTH, Direction
from noria.domain.uris import parse_entity_uri
from noria.server.deps import ClientDep
from noria.wire.common import EntityBody
from noria.wire.lineage import AddEdgesRequest, AddEdgesResponse, StepBody, WalkResponse

router = APIRouter(prefix="/api/v1/lineage", tags=["lineage"])


@router.post("/edges")
def add_edges(body: AddEdgesRequest, client: ClientDep) -> AddEdgesResponse:
    added = client.lineage.record_many([edge.to_domain() for edge in body.edges])
    return AddEdgesResponse(added=added)


@router.get("")
def walk(
    client: ClientDep,
    entity: Annotated[str, Query(description="Entity URI, e.g. runs:/<id>.")],
    direction: Direction = Direction.UPSTREAM,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 10,
) -> WalkResponse:
    start = parse_entity_uri(entity)
    if direction is Direction.UPSTREAM:
        graph = client.lineage.upstream(start, depth=depth)
    else:
        graph = client.lineage.downstream(start, depth=depth)
    return WalkResponse(
        start=EntityBody.from_domain(start),
        direction=direction,
        depth=depth,
        steps=[StepBody.from_domain(step) for step in graph.steps],
    )
