"""Cron expressions (five fields, evaluated in UTC) on croniter, imported lazily.

``latest_due("0 * * * *", after_ms=<09:30>, now_ms=<12:10>)`` is 12:00: the 10:00 and
11:00 occurrences a stopped scheduler missed are not replayed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from noria.errors import InvalidArgument

_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_HINT = (
    "use five fields — minute hour day-of-month month day-of-week, in UTC — e.g. "
    "'0 3 * * *' (03:00 every day) or '*/15 * * * *' (every 15 minutes), or @hourly, @daily, "
    "@weekly, @monthly"
)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def check_cron(expression: str) -> str:
    """The expression, stripped; ``InvalidArgument`` saying how to write one otherwise."""
    from croniter import CroniterError, croniter

    text = " ".join(str(expression).split())
    if text.lower() not in _ALIASES and len(text.split(" ")) != 5:
        raise InvalidArgument(f"Invalid cron expression {expression!r}: {_HINT}.")
    try:
        croniter(text, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except CroniterError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "failed to find" in detail:
            detail = "no such date ever comes"
        raise InvalidArgument(
            f"Invalid cron expression {expression!r} ({detail}): {_HINT}."
        ) from None
    return text


def latest_due(expression: str, *, after_ms: int, now_ms: int) -> int | None:
    """The newest occurrence in ``(after_ms, now_ms]``, in ms; older missed ones are skipped."""
    from croniter import croniter

    # croniter's get_prev is strictly before its base: start a second past now (in whole
    # seconds) so that an occurrence at exactly now counts.
    base = _moment(now_ms).replace(microsecond=0) + timedelta(seconds=1)
    newest = _ms(croniter(expression, base).get_prev(datetime))
    return newest if after_ms < newest <= now_ms else None


def next_after(expression: str, ms: int) -> int:
    """The first occurrence strictly after ``ms``."""
    from croniter import croniter

    return _ms(croniter(expression, _moment(ms)).get_next(datetime))
