"""Windows aligned to the clock, and which of them a run must evaluate.

A monitor with a 1 h window evaluates [00:00, 01:00), [01:00, 02:00), … (UTC, aligned to the
epoch, so every process agrees on the boundaries). A window is *due* once it closed ``delay``
ago (the prediction log writes its segments up to a minute after their rows arrive) and has no
result yet; an evaluated window younger than the label horizon is *rechecked* for late labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from noria.domain.monitors import Monitor, ResultMark, iso_time
from noria.errors import InvalidArgument

MAX_WINDOWS_PER_RUN = 500  # a long backlog is worked off over several runs, oldest first


@dataclass(frozen=True, slots=True, order=True)
class Window:
    start_ms: int
    end_ms: int

    def __str__(self) -> str:
        return f"{iso_time(self.start_ms)} to {iso_time(self.end_ms)}"


def align(ms: int, window_ms: int) -> int:
    """The start of the window holding ``ms``."""
    return ms - ms % window_ms


def closed_windows(monitor: Monitor, now_ms: int) -> range:
    """Starts of the windows from the monitor's first one that closed ``delay`` before now."""
    last_end = align(now_ms - monitor.delay_ms, monitor.window_ms)
    return range(monitor.start_ms, max(last_end, monitor.start_ms), monitor.window_ms)


@dataclass(frozen=True, slots=True)
class Plan:
    """What one run evaluates: ``due`` windows (never evaluated, oldest first, at most
    :data:`MAX_WINDOWS_PER_RUN`), ``recheck`` (evaluated, within the label horizon) and how many
    due windows were left for a later run."""

    due: list[Window]
    recheck: list[Window]
    pending: int


def plan_run(monitor: Monitor, now_ms: int, marks: Iterable[ResultMark], *, due_from: int) -> Plan:
    """Due and recheck windows at ``now_ms``: ``marks`` are the evaluated windows from some
    point on, and windows before ``due_from`` count as evaluated (runs go oldest first, so
    only the stretch since the newest result needs its marks read)."""
    evaluated = {mark.window_start for mark in marks}
    closed = closed_windows(monitor, now_ms)
    due: list[Window] = []
    missing = 0
    for start in closed:
        if start < due_from or start in evaluated:
            continue
        missing += 1
        if len(due) < MAX_WINDOWS_PER_RUN:
            due.append(Window(start, start + monitor.window_ms))
    horizon = now_ms - monitor.label_horizon_ms
    recheck = [
        Window(start, start + monitor.window_ms)
        for start in sorted(evaluated)
        if start in closed and start + monitor.window_ms > horizon
    ]
    return Plan(due=due, recheck=recheck, pending=missing - len(due))


def time_ms(value: datetime | int | str | None, *, what: str) -> int | None:
    """A moment as ms since the epoch: ms, a datetime (naive = UTC) or ISO 8601 text."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidArgument(f"{what}={value!r} is not a time.")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidArgument(
                f"{what} {value!r} is not an ISO 8601 time: write e.g. 2025-01-31T12:00:00Z."
            ) from None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def contiguous_runs(windows: Sequence[Window], *, most: int) -> list[list[Window]]:
    """``windows`` (sorted) cut into runs of adjacent windows, each at most ``most`` long: one
    read of the log covers a run."""
    runs: list[list[Window]] = []
    for window in windows:
        if runs and runs[-1][-1].end_ms == window.start_ms and len(runs[-1]) < most:
            runs[-1].append(window)
        else:
            runs.append([window])
    return runs
