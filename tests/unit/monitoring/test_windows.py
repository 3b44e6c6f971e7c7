"""Windows aligned to the clock: which are due, which are rechecked for late labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from noria.domain.monitors import Monitor, ResultMark
from noria.errors import InvalidArgument
from noria.monitoring.windows import (
    MAX_WINDOWS_PER_RUN,
    Window,
    align,
    contiguous_runs,
    plan_run,
    time_ms,
)

HOUR = 3_600_000
T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z


def monitor(**changes: int) -> Monitor:
    fields = {"window_ms": HOUR, "start_ms": T0, "delay_ms": 120_000, "label_horizon_ms": 3 * HOUR}
    fields.update(changes)
    return Monitor(name="m", deployment="d", reference="datasets:/r/1", features=("x",), **fields)


def mark(hour: int) -> ResultMark:
    return ResultMark(T0 + hour * HOUR, labels=0, computed_at=0)


def hours(windows: list[Window]) -> list[int]:
    return [(w.start_ms - T0) // HOUR for w in windows]


def test_a_window_is_due_once_closed_for_the_delay() -> None:
    at_delay = plan_run(monitor(), T0 + 2 * HOUR + 120_000, [], due_from=T0)
    assert hours(at_delay.due) == [0, 1]
    just_before = plan_run(monitor(), T0 + 2 * HOUR + 119_999, [], due_from=T0)
    assert hours(just_before.due) == [0]
    assert plan_run(monitor(), T0 - HOUR, [], due_from=T0).due == []  # before the start


def test_evaluated_windows_are_not_due_but_recent_ones_are_rechecked() -> None:
    now = T0 + 6 * HOUR + 300_000
    plan = plan_run(monitor(), now, [mark(h) for h in (0, 1, 3, 4)], due_from=T0)
    assert hours(plan.due) == [2, 5]  # a hole is filled, oldest first
    assert hours(plan.recheck) == [3, 4]  # within 3 h of now
    # Windows before due_from count as evaluated: only recent marks need reading.
    assert hours(plan_run(monitor(), now, [mark(4)], due_from=T0 + 4 * HOUR).due) == [5]


def test_a_long_backlog_is_worked_off_oldest_first() -> None:
    minutes = monitor(window_ms=60_000, delay_ms=0)
    plan = plan_run(minutes, T0 + (MAX_WINDOWS_PER_RUN + 20) * 60_000, [], due_from=T0)
    assert len(plan.due) == MAX_WINDOWS_PER_RUN and plan.pending == 20
    assert plan.due[0] == Window(T0, T0 + 60_000)


def test_alignment_runs_and_times() -> None:
    assert align(T0 + 90 * 60_000, HOUR) == T0 + HOUR
    windows = [Window(T0 + h * HOUR, T0 + (h + 1) * HOUR) for h in (0, 1, 2, 5, 6)]
    assert [hours(run) for run in contiguous_runs(windows, most=2)] == [[0, 1], [2], [5, 6]]
    assert time_ms("2025-01-01T00:00:00Z", what="now") == T0
    assert time_ms(datetime(2025, 1, 1), what="now") == T0  # naive is UTC
    plus_one = datetime(2025, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert time_ms(plus_one, what="now") == T0
    assert time_ms(datetime(2025, 1, 1, tzinfo=UTC), what="now") == time_ms(T0, what="now")
    with pytest.raises(InvalidArgument, match="now 'yesterday' is not an ISO 8601 time"):
        time_ms("yesterday", what="now")


def test_monitor_checks_its_own_fields() -> None:
    with pytest.raises(InvalidArgument, match="window 30s is out of range"):
        monitor(window_ms=30_000, start_ms=0)
    with pytest.raises(InvalidArgument, match="not on a window boundary"):
        monitor(start_ms=T0 + 1)
    with pytest.raises(InvalidArgument, match="must pin a dataset version"):
        Monitor(name="m", deployment="d", reference="datasets:/r@latest", window_ms=HOUR,
                features=("x",), start_ms=T0)  # fmt: skip
