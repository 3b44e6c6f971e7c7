"""Schedule, firing and event shapes of the REST API."""

from __future__ import annotations

from pydantic import Field, JsonValue

from noria.domain.schedules import (
    Event,
    Firing,
    FiringStatus,
    Occurrence,
    Schedule,
    TriggerKind,
)
from noria.wire.common import WireModel

_ID = r"^[0-9a-f]{32}$"


class ScheduleBody(WireModel):
    name: str
    pipeline: str
    kind: TriggerKind
    cron: str | None = None
    dataset: str | None = None
    event: str | None = None
    params: dict[str, str] = {}
    executor: str = "local"
    cooldown_ms: int = Field(default=0, ge=0)
    enabled: bool = True
    created_by: str = ""
    created_at: int = 0
    active_since: int = 0
    cursor: int | None = None
    last_fired_at: int | None = None
    last_occurrence: str | None = None

    @classmethod
    def from_domain(cls, schedule: Schedule) -> ScheduleBody:
        fields = {name: getattr(schedule, name) for name in cls.model_fields}
        fields["params"] = dict(schedule.params)
        return cls(**fields)

    def to_domain(self) -> Schedule:
        return Schedule(**{name: getattr(self, name) for name in type(self).model_fields})


class SchedulePage(WireModel):
    schedules: list[ScheduleBody]
    next_page_token: str | None = None


class EnabledRequest(WireModel):
    enabled: bool
    active_since: int | None = None
    cursor: int | None = None


class ClaimRequest(WireModel):
    key: str
    cursor: int | None = None
    raised_at: int | None = None
    now_ms: int
    scheduler: str

    def occurrence(self) -> Occurrence:
        return Occurrence(self.key, self.cursor, self.raised_at)


class FiringBody(WireModel):
    id: int
    schedule: str
    occurrence: str
    status: FiringStatus
    fired_at: int
    scheduler: str
    ended_at: int | None = None
    pipeline_run_id: str | None = None
    error: str | None = None

    @classmethod
    def from_domain(cls, firing: Firing) -> FiringBody:
        return cls(**{name: getattr(firing, name) for name in cls.model_fields})

    def to_domain(self) -> Firing:
        return Firing(**{name: getattr(self, name) for name in type(self).model_fields})


class ClaimResponse(WireModel):
    """``firing`` is null when the occurrence must not fire (see ``ScheduleRepo.claim``)."""

    firing: FiringBody | None


class FinishFiringRequest(WireModel):
    status: FiringStatus
    ended_at: int
    pipeline_run_id: str | None = Field(default=None, pattern=_ID)
    error: str | None = None


class FiringPage(WireModel):
    firings: list[FiringBody]
    next_page_token: str | None = None


class EventBody(WireModel):
    id: str = Field(pattern=_ID)
    name: str
    payload: dict[str, JsonValue]
    raised_at: int
    raised_by: str
    handled_by: list[str] = []

    @classmethod
    def from_domain(cls, event: Event) -> EventBody:
        return cls(
            id=event.id,
            name=event.name,
            payload=dict(event.payload),
            raised_at=event.raised_at,
            raised_by=event.raised_by,
            handled_by=list(event.handled_by),
        )

    def to_domain(self) -> Event:
        return Event(
            id=self.id,
            name=self.name,
            payload=dict(self.payload),
            raised_at=self.raised_at,
            raised_by=self.raised_by,
            handled_by=tuple(self.handled_by),
        )


class EventPage(WireModel):
    events: list[EventBody]
    next_page_token: str | None = None
