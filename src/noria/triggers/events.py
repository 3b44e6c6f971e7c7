"""Raised events (``client.triggers``): what event triggers fire on.

>>> event_id = client.triggers.raise_event("retrain-credit", {"reason": "drift"})
>>> client.triggers.events(name="retrain-credit").items[0].handled_by
('retrain-on-drift',)

Monitoring's ``trigger`` alert actions call :meth:`TriggerService.raise_event`; a running
``noria scheduler`` then fires every event trigger of that name.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from noria.domain.entities import EntityKind
from noria.domain.ids import new_id
from noria.domain.lineage import Relation
from noria.domain.paging import Page
from noria.domain.schedules import Event, check_event_name, check_payload
from noria.domain.uris import parse_entity_uri
from noria.errors import InvalidArgument
from noria.lineage import LineageService
from noria.ports.metadata import MetadataStore


def alert_uri(payload: Mapping[str, Any]) -> str | None:
    """The alert an event is about, as monitoring's payloads name it: ``alert.uri``."""
    alert = payload.get("alert")
    uri = alert.get("uri") if isinstance(alert, Mapping) else None
    return uri if isinstance(uri, str) and uri.startswith("alerts:/") else None


class TriggerService:
    """Raise events and read them back; the scheduler fires the triggers."""

    def __init__(self, metadata: MetadataStore, lineage: LineageService, *, user: str) -> None:
        self._events = metadata.events
        self._lineage = lineage
        self._user = user

    def raise_event(self, name: str, payload: Mapping[str, Any] | None = None) -> str:
        """Store the event ``name`` with its JSON ``payload``; returns the event's id.

        An event whose payload names an alert (``{"alert": {"uri": "alerts:/…"}}``, as
        monitoring sends) is linked in lineage: alert —triggered→ event.
        """
        body = dict(payload or {})
        check_event_name(name)
        check_payload(body)
        event = Event(new_id(), name, body, time.time_ns() // 1_000_000, self._user)
        self._events.add_event(event)
        if (uri := alert_uri(body)) is not None:
            try:
                alert = parse_entity_uri(uri)
            except InvalidArgument:
                return event.id  # a payload we do not understand is still a valid event
            if alert.kind is EntityKind.ALERT:
                self._lineage.record(alert, Relation.TRIGGERED, event.entity())
        return event.id

    def event(self, event_id: str) -> Event:
        return self._events.get_event(event_id)

    def events(
        self, *, name: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Event]:
        """Newest first; ``handled_by`` names the schedules that answered each one."""
        return self._events.list_events(name=name, limit=limit, page_token=page_token)
