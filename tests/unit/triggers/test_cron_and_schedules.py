"""Cron expressions, the due-occurrence rules and the schedule domain checks (no store)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from noria.domain.schedules import Schedule, TriggerKind, check_event_name, check_payload
from noria.errors import InvalidArgument
from noria.triggers.cron import check_cron, latest_due, next_after
from noria.triggers.schedules import default_name


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("* * *", "five fields"),
        ("*/5 * * * * *", "five fields"),
        ("61 * * * *", "out of range"),
        ("0 0 30 2 *", "no such date ever comes"),
        ("every day", "five fields"),
    ],
)
def test_bad_cron_expressions_say_how_to_write_one(expression: str, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment) as raised:
        check_cron(expression)
    assert "'0 3 * * *'" in raised.value.message


def test_good_cron_expressions_are_normalised() -> None:
    assert check_cron("  0   3 * * 1-5 ") == "0 3 * * 1-5"
    assert check_cron("@hourly") == "@hourly"


def test_latest_due_is_the_newest_missed_occurrence_only() -> None:
    hourly = "0 * * * *"
    assert latest_due(hourly, after_ms=ms("2024-05-01T09:30"), now_ms=ms("2024-05-01T12:10")) == (
        ms("2024-05-01T12:00")
    )
    # An occurrence at exactly now is due; one already answered is not.
    assert latest_due(hourly, after_ms=ms("2024-05-01T11:00"), now_ms=ms("2024-05-01T12:00")) == (
        ms("2024-05-01T12:00")
    )
    assert (
        latest_due(hourly, after_ms=ms("2024-05-01T12:00"), now_ms=ms("2024-05-01T12:59")) is None
    )
    assert next_after(hourly, ms("2024-05-01T12:00")) == ms("2024-05-01T13:00")


def test_a_schedule_takes_exactly_its_kinds_trigger() -> None:
    with pytest.raises(InvalidArgument, match="exactly one trigger, cron; got dataset"):
        Schedule(name="s", pipeline="m:p", kind=TriggerKind.CRON, dataset="credit")
    with pytest.raises(InvalidArgument, match="Invalid pipeline reference"):
        Schedule(name="s", pipeline="m.p", kind=TriggerKind.EVENT, event="go")
    with pytest.raises(InvalidArgument, match="Invalid parameter name '1x'"):
        Schedule(name="s", pipeline="m:p", kind=TriggerKind.EVENT, event="go", params={"1x": "1"})
    schedule = Schedule(name="s", pipeline="flows/a.py:p", kind=TriggerKind.EVENT, event="go")
    assert (schedule.trigger, schedule.entity().uri) == ("event go", "schedules:/s")


def test_event_names_and_payloads() -> None:
    assert check_event_name("monitor.alert") == "monitor.alert"
    with pytest.raises(InvalidArgument, match="Invalid event name"):
        check_event_name("no spaces")
    with pytest.raises(InvalidArgument, match="not JSON"):
        check_payload({"when": datetime.now(UTC)})
    with pytest.raises(InvalidArgument, match="limit is"):
        check_payload({"blob": "x" * 300_000})


def test_default_names_come_from_the_pipeline_and_the_trigger() -> None:
    assert default_name("flows.train:training", TriggerKind.CRON) == "training-cron"
    assert default_name("flows/train.py:training", TriggerKind.DATASET) == "training-dataset"
