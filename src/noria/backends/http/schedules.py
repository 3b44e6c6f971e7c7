"""Schedules, firings and events over REST (``/api/v1/schedules``, ``…/firings``, ``…/events``).

A claim is a POST and never retried on a lost connection: a retry could not tell a claim
that reached the server from one that did not, and the server's answer decides.
"""

from __future__ import annotations

from noria.backends.http.paging import page_params
from noria.backends.http.tracking import segment
from noria.backends.http.transport import HttpTransport
from noria.domain.paging import Page
from noria.domain.schedules import Event, Firing, FiringStatus, Occurrence, Schedule, TriggerKind
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

SCHEDULES = "/api/v1/schedules"
FIRINGS = "/api/v1/firings"
EVENTS = "/api/v1/events"


def _path(name: str, *rest: str) -> str:
    return "/".join([SCHEDULES, segment(name), *rest])


class HttpScheduleRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def add(self, schedule: Schedule) -> Schedule:
        body = ScheduleBody.from_domain(schedule).model_dump(mode="json")
        return ScheduleBody.model_validate(
            self._http.json("POST", SCHEDULES, json=body)
        ).to_domain()

    def get(self, name: str) -> Schedule:
        return ScheduleBody.model_validate(self._http.json("GET", _path(name))).to_domain()

    def list_schedules(
        self,
        *,
        kind: TriggerKind | None = None,
        enabled: bool | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Schedule]:
        shown_kind = None if kind is None else TriggerKind(kind).value
        shown_enabled = None if enabled is None else str(enabled).lower()
        params = page_params(limit, page_token, kind=shown_kind, enabled=shown_enabled)
        page = SchedulePage.model_validate(self._http.json("GET", SCHEDULES, params=params))
        return Page([body.to_domain() for body in page.schedules], page.next_page_token)

    def delete(self, name: str) -> Schedule:
        return ScheduleBody.model_validate(self._http.json("DELETE", _path(name))).to_domain()

    def set_enabled(
        self,
        name: str,
        enabled: bool,
        *,
        active_since: int | None = None,
        cursor: int | None = None,
    ) -> Schedule:
        body = EnabledRequest(enabled=enabled, active_since=active_since, cursor=cursor)
        answer = self._http.json("PUT", _path(name, "enabled"), json=body.model_dump(mode="json"))
        return ScheduleBody.model_validate(answer).to_domain()

    def claim(
        self, name: str, occurrence: Occurrence, *, now_ms: int, scheduler: str
    ) -> Firing | None:
        body = ClaimRequest(
            key=occurrence.key,
            cursor=occurrence.cursor,
            raised_at=occurrence.raised_at,
            now_ms=now_ms,
            scheduler=scheduler,
        )
        answer = self._http.json("POST", _path(name, "claims"), json=body.model_dump(mode="json"))
        firing = ClaimResponse.model_validate(answer).firing
        return None if firing is None else firing.to_domain()

    def finish_firing(
        self,
        firing_id: int,
        status: FiringStatus,
        *,
        ended_at: int,
        pipeline_run_id: str | None = None,
        error: str | None = None,
    ) -> Firing:
        body = FinishFiringRequest(
            status=status, ended_at=ended_at, pipeline_run_id=pipeline_run_id, error=error
        )
        answer = self._http.json(
            "PUT", f"{FIRINGS}/{firing_id}/outcome", json=body.model_dump(mode="json")
        )
        return FiringBody.model_validate(answer).to_domain()

    def list_firings(
        self, *, schedule: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Firing]:
        params = page_params(limit, page_token, schedule=schedule)
        page = FiringPage.model_validate(self._http.json("GET", FIRINGS, params=params))
        return Page([body.to_domain() for body in page.firings], page.next_page_token)


class HttpEventRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def add_event(self, event: Event) -> Event:
        body = EventBody.from_domain(event).model_dump(mode="json")
        return EventBody.model_validate(self._http.json("POST", EVENTS, json=body)).to_domain()

    def get_event(self, event_id: str) -> Event:
        answer = self._http.json("GET", f"{EVENTS}/{segment(event_id)}")
        return EventBody.model_validate(answer).to_domain()

    def list_events(
        self,
        *,
        name: str | None = None,
        unhandled_by: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Event]:
        params = page_params(limit, page_token, name=name, unhandled_by=unhandled_by)
        page = EventPage.model_validate(self._http.json("GET", EVENTS, params=params))
        return Page([body.to_domain() for body in page.events], page.next_page_token)
