"""Schedules, their firings and raised events.

Schedulers run next to the client (``noria scheduler``), pointed at this server or at the
database; these routes keep the records and make each claim the one transaction that
decides whether an occurrence fires. Audit events around changes come from the client's
service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from noria.domain.paging import MAX_PAGE_SIZE
from noria.domain.schedules import TriggerKind
from noria.server.deps import ClientDep
from noria.triggers.cron import check_cron
from noria.wire.schedules import (
    ClaimRequest,
    ClaimResponse,
    EnabledRequest,
    EventBody,
    EventPage,
    FinishFiringRequest,
    FiringBody,
    FiringPage,
    ScheduleBody,
    SchedulePage,
)

router = APIRouter(prefix="/api/v1", tags=["schedules"])
Name = Annotated[str, Path(description="The schedule's name ('.' may be sent as %2E).")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@router.post("/schedules", status_code=status.HTTP_201_CREATED)
def add_schedule(body: ScheduleBody, client: ClientDep) -> ScheduleBody:
    """409 ALREADY_EXISTS when the name is taken; 400 for a bad cron expression or field."""
    schedule = body.to_domain()
    if schedule.cron is not None:
        check_cron(schedule.cron)
    return ScheduleBody.from_domain(client.metadata.schedules.add(schedule))


@router.get("/schedules")
def list_schedules(
    client: ClientDep,
    kind: TriggerKind | None = None,
    enabled: bool | None = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> SchedulePage:
    """By name."""
    page = client.metadata.schedules.list_schedules(
        kind=kind, enabled=enabled, limit=limit, page_token=page_token
    )
    return SchedulePage(
        schedules=[ScheduleBody.from_domain(s) for s in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/schedules/{name}")
def get_schedule(name: Name, client: ClientDep) -> ScheduleBody:
    return ScheduleBody.from_domain(client.metadata.schedules.get(name))


@router.delete("/schedules/{name}")
def delete_schedule(name: Name, client: ClientDep) -> ScheduleBody:
    """Removes its firings too; returns what was stored."""
    return ScheduleBody.from_domain(client.metadata.schedules.delete(name))


@router.put("/schedules/{name}/enabled")
def set_enabled(name: Name, body: EnabledRequest, client: ClientDep) -> ScheduleBody:
    """Pause, or resume (from ``active_since`` and ``cursor`` when given)."""
    schedule = client.metadata.schedules.set_enabled(
        name, body.enabled, active_since=body.active_since, cursor=body.cursor
    )
    return ScheduleBody.from_domain(schedule)


@router.post("/schedules/{name}/claims")
def claim(name: Name, body: ClaimRequest, client: ClientDep) -> ClaimResponse:
    """The new RUNNING firing, or ``firing: null`` when this occurrence must not fire."""
    firing = client.metadata.schedules.claim(
        name, body.occurrence(), now_ms=body.now_ms, scheduler=body.scheduler
    )
    return ClaimResponse(firing=None if firing is None else FiringBody.from_domain(firing))


@router.get("/firings")
def list_firings(
    client: ClientDep,
    schedule: Annotated[str | None, Query(description="Only this schedule's.")] = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> FiringPage:
    """Newest first."""
    page = client.metadata.schedules.list_firings(
        schedule=schedule, limit=limit, page_token=page_token
    )
    return FiringPage(
        firings=[FiringBody.from_domain(f) for f in page.items],
        next_page_token=page.next_page_token,
    )


@router.put("/firings/{firing_id}/outcome")
def finish_firing(firing_id: int, body: FinishFiringRequest, client: ClientDep) -> FiringBody:
    firing = client.metadata.schedules.finish_firing(
        firing_id,
        body.status,
        ended_at=body.ended_at,
        pipeline_run_id=body.pipeline_run_id,
        error=body.error,
    )
    return FiringBody.from_domain(firing)


@router.post("/events", status_code=status.HTTP_201_CREATED)
def add_event(body: EventBody, client: ClientDep) -> EventBody:
    """Store a raised event (the client stamps its id, time and user)."""
    return EventBody.from_domain(client.metadata.events.add_event(body.to_domain()))


@router.get("/events")
def list_events(
    client: ClientDep,
    name: str | None = None,
    unhandled_by: Annotated[
        str | None, Query(description="Only events this event trigger has yet to answer.")
    ] = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> EventPage:
    """Newest first."""
    page = client.metadata.events.list_events(
        name=name, unhandled_by=unhandled_by, limit=limit, page_token=page_token
    )
    return EventPage(
        events=[EventBody.from_domain(e) for e in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/events/{event_id}")
def get_event(event_id: str, client: ClientDep) -> EventBody:
    return EventBody.from_domain(client.metadata.events.get_event(event_id))
