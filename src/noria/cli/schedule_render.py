"""Tables and JSON shapes of ``noria schedule`` and ``noria events``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from noria.cli.render import console
from noria.domain.monitors import format_duration
from noria.domain.schedules import Event, Firing, Schedule

_STATUS_STYLES = {"SUCCEEDED": "green", "FAILED": "red", "RUNNING": "blue", "COALESCED": "dim"}


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _cooldown(schedule: Schedule) -> str:
    return format_duration(schedule.cooldown_ms) if schedule.cooldown_ms else "-"


def schedule_dict(schedule: Schedule, next_ms: int | None) -> dict[str, Any]:
    data = asdict(schedule)
    data["uri"] = schedule.entity().uri
    data["trigger"] = schedule.trigger
    data["params"] = dict(schedule.params)
    data["next"] = when(next_ms) if next_ms is not None else None
    return data


def firing_dict(firing: Firing) -> dict[str, Any]:
    return asdict(firing)


def event_dict(event: Event) -> dict[str, Any]:
    data = asdict(event)
    data["payload"] = dict(event.payload)
    data["uri"] = event.entity().uri
    data["raised"] = when(event.raised_at)
    return data


def print_schedules(shown: list[tuple[Schedule, int | None]]) -> None:
    table = Table()
    for column in ("name", "pipeline", "trigger", "cooldown", "state", "last fired (UTC)"):
        table.add_column(column, overflow="fold")
    table.add_column("next (UTC)", no_wrap=True)
    for schedule, next_ms in shown:
        table.add_row(
            schedule.name,
            schedule.pipeline,
            schedule.trigger,
            _cooldown(schedule),
            "enabled" if schedule.enabled else "paused",
            when(schedule.last_fired_at),
            when(next_ms),
        )
    console().print(table)


def print_firings(firings: Sequence[Firing]) -> None:
    table = Table("id", "occurrence", "status", "fired (UTC)", "run", "error")
    for firing in firings:
        style = _STATUS_STYLES.get(firing.status.value, "")
        error = (firing.error or "").splitlines()[0] if firing.error else ""
        table.add_row(
            str(firing.id),
            firing.occurrence,
            f"[{style}]{firing.status.value}[/]" if style else firing.status.value,
            when(firing.fired_at),
            firing.pipeline_run_id or "-",
            error,
        )
    console().print(table)


def print_schedule(schedule: Schedule, next_ms: int | None, firings: list[Firing]) -> None:
    out = console()
    rows = [
        ("schedule", schedule.name),
        ("pipeline", schedule.pipeline),
        ("trigger", schedule.trigger),
        ("params", " ".join(f"{k}={v}" for k, v in schedule.params.items()) or "-"),
        ("executor", schedule.executor),
        ("cooldown", _cooldown(schedule)),
        ("state", "enabled" if schedule.enabled else "paused"),
        ("created", f"{when(schedule.created_at)} UTC by {schedule.created_by}"),
        ("last fired", f"{when(schedule.last_fired_at)} ({schedule.last_occurrence or '-'})"),
        ("next", when(next_ms)),
    ]
    for label, value in rows:
        out.print(f"{label:<11} {value}", markup=False)
    if firings:
        print_firings(firings)
    else:
        out.print("No firings yet.")


def print_events(events: list[Event]) -> None:
    table = Table("id", "name", "raised (UTC)", "by", "handled by", "payload")
    for event in events:
        payload = ", ".join(sorted(event.payload)) or "-"
        table.add_row(
            event.id,
            event.name,
            when(event.raised_at),
            event.raised_by,
            ", ".join(event.handled_by) or "-",
            f"{{{payload}}}",
        )
    console().print(table)
