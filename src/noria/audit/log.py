"""The service every capability uses to leave an audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from noria.domain.audit import AuditEvent, AuditQuery, JsonObject
from noria.domain.entities import EntityRef
from noria.domain.paging import Page
from noria.ports.metadata import AuditRepo


def utc_now() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    """Stamps events with the acting user and the time, then appends them.

    >>> log.record("model_version.alias_set", ref, after={"alias": "champion"})
    """

    def __init__(
        self, repo: AuditRepo, actor: str, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._repo = repo
        self._actor = actor
        self._clock = clock

    @property
    def actor(self) -> str:
        return self._actor

    def record(
        self,
        action: str,
        entity: EntityRef,
        *,
        before: JsonObject | None = None,
        after: JsonObject | None = None,
    ) -> AuditEvent:
        event = AuditEvent(
            actor=self._actor,
            action=action,
            entity=entity,
            occurred_at=self._clock(),
            before=before,
            after=after,
        )
        return self._repo.append(event)

    def events(
        self, query: AuditQuery | None = None, *, limit: int = 100, page_token: str | None = None
    ) -> Page[AuditEvent]:
        return self._repo.list_events(query or AuditQuery(), limit=limit, page_token=page_token)
