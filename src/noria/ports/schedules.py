"""Ports of schedules (with their firings) and of raised events."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from noria.domain.paging import Page
from noria.domain.schedules import (
    Event,
    Firing,
    FiringStatus,
    Occurrence,
    Schedule,
    TriggerKind,
)


@runtime_checkable
class ScheduleRepo(Protocol):
    def add(self, schedule: Schedule) -> Schedule:
        """Store a new schedule; raises ``AlreadyExists`` for a name already taken."""
        ...

    def get(self, name: str) -> Schedule:
        """Raises ``NotFound`` naming the schedule."""
        ...

    def list_schedules(
        self,
        *,
        kind: TriggerKind | None = None,
        enabled: bool | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Schedule]:
        """By name."""
        ...

    def delete(self, name: str) -> Schedule:
        """Remove a schedule and its firings; returns what was stored."""
        ...

    def set_enabled(
        self,
        name: str,
        enabled: bool,
        *,
        active_since: int | None = None,
        cursor: int | None = None,
    ) -> Schedule:
        """Pause or resume. Resuming with ``active_since`` (and ``cursor``) starts afresh:
        what happened while paused is not fired."""
        ...

    def claim(
        self, name: str, occurrence: Occurrence, *, now_ms: int, scheduler: str
    ) -> Firing | None:
        """Record a RUNNING firing of ``occurrence``, all or nothing, in one transaction
        holding the schedule's row lock; ``None`` when it must not fire: the schedule is
        gone or paused, the occurrence is not newer than its cursor, the cooldown since
        the last firing has not passed at ``now_ms``, or another scheduler claimed it.

        For an event occurrence (``raised_at`` set), the older events of the schedule not
        yet answered are recorded as COALESCED in the same transaction.
        """
        ...

    def finish_firing(
        self,
        firing_id: int,
        status: FiringStatus,
        *,
        ended_at: int,
        pipeline_run_id: str | None = None,
        error: str | None = None,
    ) -> Firing:
        """Set a firing's outcome; raises ``NotFound`` once its schedule was removed."""
        ...

    def list_firings(
        self, *, schedule: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Firing]:
        """Newest first; of one schedule when named."""
        ...


@runtime_checkable
class EventRepo(Protocol):
    def add_event(self, event: Event) -> Event:
        """Store a raised event (its ``handled_by`` is ignored)."""
        ...

    def get_event(self, event_id: str) -> Event:
        """Raises ``NotFound`` naming the id."""
        ...

    def list_events(
        self,
        *,
        name: str | None = None,
        unhandled_by: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Event]:
        """Newest first. ``unhandled_by`` (a schedule name) keeps the events that event
        trigger listens to — of its event name, raised since it became active — that it
        has not answered yet."""
        ...
