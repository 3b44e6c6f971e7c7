"""Schedules as users see them (``client.schedules``): add, list, pause, resume; audited.

>>> client.schedules.add("flows.train:training", cron="0 3 * * *", params={"c": 0.5})
>>> client.schedules.add("flows.train:training", dataset="credit", cooldown="1h")
>>> client.schedules.add("flows.retrain:retrain", event="monitor.alert", name="retrain")

A schedule only records what should fire; ``noria scheduler`` (``Scheduler.tick``) fires
it. This service checks what it can without importing the pipeline (the CLI imports it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from noria.audit import AuditLog
from noria.domain.monitors import format_duration, parse_duration
from noria.domain.paging import Page
from noria.domain.schedules import (
    Firing,
    Schedule,
    TriggerKind,
    check_event_name,
    check_pipeline_ref,
    check_schedule_name,
)
from noria.errors import InvalidArgument, NotFound
from noria.ports.metadata import MetadataStore
from noria.triggers.cron import check_cron, next_after


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _text(value: Any) -> str:
    """A parameter as ``--param`` text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def default_name(pipeline: str, kind: TriggerKind) -> str:
    """``flows.train:training`` on cron → ``training-cron``."""
    attribute = pipeline.rpartition(":")[2].replace(".", "-").strip("-_") or "pipeline"
    return f"{attribute}-{kind.value}"[:128]


def describe(schedule: Schedule) -> dict[str, Any]:
    """The audited (and shown) form of a schedule's declared parts."""
    return {
        "pipeline": schedule.pipeline,
        "trigger": schedule.trigger,
        "params": dict(schedule.params),
        "executor": schedule.executor,
        "cooldown": format_duration(schedule.cooldown_ms) if schedule.cooldown_ms else "0s",
        "enabled": schedule.enabled,
    }


class ScheduleService:
    def __init__(self, metadata: MetadataStore, audit: AuditLog, *, user: str) -> None:
        self._repo = metadata.schedules
        self._datasets = metadata.datasets
        self._audit = audit
        self._user = user

    def add(
        self,
        pipeline: str,
        *,
        cron: str | None = None,
        dataset: str | None = None,
        event: str | None = None,
        params: Mapping[str, Any] | None = None,
        cooldown: str | int = 0,
        name: str | None = None,
        executor: str = "local",
    ) -> Schedule:
        """Start ``pipeline`` on a ``cron`` expression (UTC), each new version of ``dataset``,
        or each raised ``event``; at most once per ``cooldown`` (``"10m"``, or ms).

        ``params`` are the pipeline's, as ``--param`` would give them (non-strings as JSON).
        A dataset trigger fires for versions made after it was added.
        """
        given = {"cron": cron, "dataset": dataset, "event": event}
        chosen = [kind for kind, value in given.items() if value is not None]
        if len(chosen) != 1:
            raise InvalidArgument(
                "A schedule needs exactly one trigger: --cron EXPRESSION, --on-dataset NAME or "
                f"--on-event NAME (got {', '.join(chosen) or 'none'})."
            )
        kind = TriggerKind(chosen[0])
        check_pipeline_ref(pipeline)
        now = _now_ms()
        cursor: int | None = None
        if cron is not None:
            cron, cursor = check_cron(cron), now
        elif dataset is not None:
            cursor = self._newest_version(check_schedule_name(dataset))
        else:
            check_event_name(str(event))
        schedule = Schedule(
            name=check_schedule_name(name) if name is not None else default_name(pipeline, kind),
            pipeline=pipeline,
            kind=kind,
            cron=cron,
            dataset=dataset,
            event=event,
            params={key: _text(value) for key, value in (params or {}).items()},
            executor=executor,
            cooldown_ms=parse_duration(cooldown, what="cooldown"),
            created_by=self._user,
            created_at=now,
            active_since=now,
            cursor=cursor,
        )
        stored = self._repo.add(schedule)
        self._audit.record("schedule.created", stored.entity(), after=describe(stored))
        return stored

    def _newest_version(self, dataset: str) -> int:
        try:
            return self._datasets.get_version(dataset).version
        except NotFound:
            raise NotFound(
                f"Dataset {dataset!r} not found: a dataset trigger watches an existing dataset. "
                "Ingest its first version with `noria data ingest`, or check the name with "
                "`noria data list`."
            ) from None

    def get(self, name: str) -> Schedule:
        return self._repo.get(name)

    def list(
        self,
        *,
        kind: TriggerKind | None = None,
        enabled: bool | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Schedule]:
        """By name."""
        return self._repo.list_schedules(
            kind=kind, enabled=enabled, limit=limit, page_token=page_token
        )

    def remove(self, name: str) -> Schedule:
        """Delete the schedule and its firings (the pipeline runs it started stay)."""
        removed = self._repo.delete(name)
        self._audit.record("schedule.removed", removed.entity(), before=describe(removed))
        return removed

    def pause(self, name: str) -> Schedule:
        paused = self._repo.set_enabled(name, False)
        self._audit.record(
            "schedule.paused", paused.entity(), before={"enabled": True}, after={"enabled": False}
        )
        return paused

    def resume(self, name: str) -> Schedule:
        """Enable again, starting afresh: what happened while paused does not fire."""
        schedule = self._repo.get(name)
        now = _now_ms()
        cursor = None
        if schedule.kind is TriggerKind.CRON:
            cursor = now
        elif schedule.dataset is not None:
            cursor = self._newest_version(schedule.dataset)
        resumed = self._repo.set_enabled(name, True, active_since=now, cursor=cursor)
        self._audit.record(
            "schedule.resumed",
            resumed.entity(),
            before={"enabled": schedule.enabled},
            after={"enabled": True},
        )
        return resumed

    def firings(
        self, name: str | None = None, *, limit: int = 20, page_token: str | None = None
    ) -> Page[Firing]:
        """Newest first: what each schedule fired, and the pipeline run it started."""
        return self._repo.list_firings(schedule=name, limit=limit, page_token=page_token)

    @staticmethod
    def next_time(schedule: Schedule, now_ms: int | None = None) -> int | None:
        """The next cron occurrence (ms; a cooldown may delay its firing), ``None`` for a
        paused schedule or another kind."""
        if schedule.cron is None or not schedule.enabled:
            return None
        after = max(now_ms if now_ms is not None else _now_ms(), schedule.cursor or 0)
        return next_after(schedule.cron, after)
