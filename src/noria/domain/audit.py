"""Audit events: an append-only record of who changed what, and how."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from noria.domain.entities import EntityRef
from noria.errors import InvalidArgument

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """``seq`` is assigned by the store; it is ``None`` until the event is appended."""

    actor: str
    action: str
    entity: EntityRef
    occurred_at: datetime
    before: JsonObject | None = None
    after: JsonObject | None = None
    seq: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise InvalidArgument(
                f"Audit event time {self.occurred_at.isoformat()} has no timezone: "
                "pass an aware datetime, e.g. datetime.now(UTC)."
            )


@dataclass(frozen=True, slots=True)
class AuditQuery:
    entity: EntityRef | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
