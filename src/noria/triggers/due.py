"""What a schedule should fire for now, if anything: the newest unanswered occurrence.

Missed occurrences are not replayed: after a scheduler was down, a cron schedule fires the
latest occurrence it missed, once; a dataset trigger the newest version; an event trigger
the newest event (the older ones are answered by that firing, as COALESCED).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from noria.domain.monitors import iso_time
from noria.domain.schedules import Event, Occurrence, Schedule
from noria.errors import NotFound
from noria.ports.metadata import MetadataStore
from noria.triggers.cron import latest_due


@dataclass(frozen=True, slots=True)
class Due:
    """An occurrence to claim, with what the started pipeline may want to know about it."""

    schedule: Schedule
    occurrence: Occurrence
    dataset_uri: str | None = None
    event: Event | None = None

    def context(self, fired_at_ms: int) -> dict[str, Any]:
        """The ``trigger`` parameter a pipeline may declare: what fired it, and why."""
        found: dict[str, Any] = {
            "schedule": self.schedule.name,
            "kind": self.schedule.kind.value,
            "occurrence": self.occurrence.key,
            "fired_at": iso_time(fired_at_ms),
        }
        if self.dataset_uri is not None:
            found["dataset_uri"] = self.dataset_uri
        if self.event is not None:
            found["event"] = {
                "id": self.event.id,
                "name": self.event.name,
                "payload": dict(self.event.payload),
                "raised_at": iso_time(self.event.raised_at),
            }
        return found


def _cron_due(schedule: Schedule, cron: str, now_ms: int) -> Due | None:
    after = schedule.cursor if schedule.cursor is not None else schedule.active_since
    moment = latest_due(cron, after_ms=after, now_ms=now_ms)
    if moment is None:
        return None
    return Due(schedule, Occurrence(iso_time(moment), cursor=moment))


def _dataset_due(metadata: MetadataStore, schedule: Schedule, dataset: str) -> Due | None:
    try:
        newest = metadata.datasets.get_version(dataset)
    except NotFound:
        return None  # the dataset was removed: nothing to fire on
    if schedule.cursor is not None and newest.version <= schedule.cursor:
        return None
    return Due(schedule, Occurrence(newest.uri, cursor=newest.version), dataset_uri=newest.uri)


def _event_due(metadata: MetadataStore, schedule: Schedule) -> Due | None:
    events = metadata.events.list_events(unhandled_by=schedule.name, limit=1).items
    if not events:
        return None
    event = events[0]
    return Due(schedule, Occurrence(event.id, raised_at=event.raised_at), event=event)


def find_due(metadata: MetadataStore, schedule: Schedule, now_ms: int) -> Due | None:
    """The newest occurrence ``schedule`` has not answered by ``now_ms`` (cooldowns and
    races are the claim's to decide)."""
    if not schedule.enabled:
        return None
    if schedule.cron is not None:
        return _cron_due(schedule, schedule.cron, now_ms)
    if schedule.dataset is not None:
        return _dataset_due(metadata, schedule, schedule.dataset)
    return _event_due(metadata, schedule)
