"""Audit shapes: one event, a page of events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime

from noria.domain.audit import AuditEvent
from noria.wire.common import EntityBody, WireModel


class AuditEventBody(WireModel):
    seq: int | None = None
    actor: str
    action: str
    entity: EntityBody
    occurred_at: AwareDatetime
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    @classmethod
    def from_domain(cls, event: AuditEvent) -> AuditEventBody:
        return cls(
            seq=event.seq,
            actor=event.actor,
            action=event.action,
            entity=EntityBody.from_domain(event.entity),
            occurred_at=event.occurred_at,
            before=event.before,
            after=event.after,
        )

    def to_domain(self) -> AuditEvent:
        occurred_at: datetime = self.occurred_at
        return AuditEvent(
            actor=self.actor,
            action=self.action,
            entity=self.entity.to_domain(),
            occurred_at=occurred_at,
            before=self.before,
            after=self.after,
            seq=self.seq,
        )


class AuditPage(WireModel):
    events: list[AuditEventBody]
    next_page_token: str | None = None
