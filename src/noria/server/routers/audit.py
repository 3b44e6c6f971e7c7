"""Append and query audit events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime

from noria.domain.audit import AuditQuery
from noria.domain.paging import MAX_PAGE_SIZE
from noria.domain.uris import parse_entity_uri
from noria.errors import InvalidArgument
from noria.server.deps import ClientDep
from noria.wire.audit import AuditEventBody, AuditPage

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.post("/events", status_code=status.HTTP_201_CREATED)
def append_event(body: AuditEventBody, client: ClientDep) -> AuditEventBody:
    if body.seq is not None:
        raise InvalidArgument(f"seq is assigned by the store; leave it out (got {body.seq}).")
    return AuditEventBody.from_domain(client.metadata.audit.append(body.to_domain()))


@router.get("/events")
def list_events(
    client: ClientDep,
    entity: Annotated[str | None, Query(description="Entity URI, e.g. runs:/<id>.")] = None,
    actor: str | None = None,
    action: str | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    page_token: str | None = None,
) -> AuditPage:
    query = AuditQuery(
        entity=parse_entity_uri(entity) if entity else None,
        actor=actor,
        action=action,
        since=since,
        until=until,
    )
    page = client.audit.events(query, limit=limit, page_token=page_token)
    events = [AuditEventBody.from_domain(event) for event in page.items]
    return AuditPage(events=events, next_page_token=page.next_page_token)
