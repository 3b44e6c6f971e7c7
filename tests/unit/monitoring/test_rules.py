"""Alert rules: the one-line syntax, consecutive windows, dedup, resolution and cooldown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from noria.domain.alerts import ActionKind, ActionSpec, Alert, AlertStatus, Operator, Severity
from noria.domain.monitor_rules import Decision, Point, breaches, decide, parse_rule, rule_text
from noria.domain.monitors import check_figure, format_duration, parse_duration
from noria.errors import InvalidArgument

HOUR = 3_600_000


def test_a_full_rule_reads_every_part() -> None:
    rule = parse_rule(
        "drift.share_drifted >= 0.3 for 2 windows severity=critical cooldown=6h action=log "
        "action=webhook:https://hooks.example/x?a=1&b=2 action=trigger:retrain name=drift"
    )
    assert (rule.figure, rule.operator, rule.threshold, rule.for_windows) == (
        "drift.share_drifted", Operator.GE, 0.3, 2,
    )  # fmt: skip
    assert (rule.severity, rule.cooldown_ms, rule.name) == (Severity.CRITICAL, 6 * HOUR, "drift")
    assert rule.actions == (
        ActionSpec(ActionKind.LOG),
        ActionSpec(ActionKind.WEBHOOK, "https://hooks.example/x?a=1&b=2"),
        ActionSpec(ActionKind.TRIGGER, "retrain"),
    )
    assert parse_rule(rule_text(rule)) == rule


def test_defaults_and_feature_names_with_spaces() -> None:
    rule = parse_rule("feature.petal length (cm).drift_score > 0.2")
    assert rule.figure == "feature.petal length (cm).drift_score"
    assert (rule.for_windows, rule.severity, rule.cooldown_ms) == (1, Severity.WARNING, 0)
    assert rule.actions == (ActionSpec(ActionKind.LOG),)
    assert rule.name == "feature.petal length (cm).drift_score > 0.2"
    assert parse_rule("performance.r2 < -0.5 action=trigger").actions[0].target == "monitor.alert"
    assert parse_rule(rule_text(rule)) == rule


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("drift.share_drifted 0.3", "has no comparison"),
        ("drift.share_drifted >", "no threshold"),
        ("drift.share_drifted > lots", "threshold 'lots' is not a number"),
        ("drift.share_drifted > 0.3 for", "'for' needs a number"),
        ("drift.share_drifted > 0.3 for two", "whole number of windows"),
        ("drift.share_drifted > 0.3 severity=loud", "Unknown severity 'loud'"),
        ("drift.share_drifted > 0.3 cooldown=soon", "Invalid cooldown 'soon'"),
        ("drift.share_drifted > 0.3 action=email:me", "Unknown action 'email:me'"),
        ("drift.share_drifted > 0.3 action=webhook:ftp://x", "needs an http(s) URL"),
        ("drift.share_drifted > 0.3 colour=red", "cannot read 'colour=red'"),
        ("drift.share_drifted > 0.3 severity=info severity=critical", "gives severity= twice"),
        ("drift.everything > 0.3", "Unknown figure 'drift.everything'"),
        ("feature.income > 0.3", "Unknown figure 'feature.income'"),
        ("drift.share_drifted > inf", "is not finite"),
    ],
)
def test_bad_rules_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(InvalidArgument, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(text)


def test_durations_and_figures() -> None:
    assert [parse_duration(t) for t in ("30s", "15m", "1h", "7d", "1w")] == [
        30_000, 900_000, HOUR, 7 * 24 * HOUR, 7 * 24 * HOUR,
    ]  # fmt: skip
    assert [format_duration(ms) for ms in (HOUR, 90_000, 7 * 24 * HOUR, 1500)] == [
        "1h", "90s", "1w", "1.5s",
    ]  # fmt: skip
    with pytest.raises(InvalidArgument, match="Invalid window '1 hour'"):
        parse_duration("1 hour", what="window")
    for good in ("rows", "latency.p99_ms", "performance.roc_auc", "quality.null_values",
                 "feature.a.b.p_value"):  # fmt: skip
        assert check_figure(good) == good


def points(*values: float | None, gap_after: int | None = None) -> list[Point]:
    found, start = [], 0
    for index, value in enumerate(values):
        found.append(Point(start, start + HOUR, value))
        start += HOUR * (2 if gap_after == index else 1)
    return found


def test_breaches_need_consecutive_windows_and_restart_on_gaps_and_unknowns() -> None:
    rule = parse_rule("drift.share_drifted > 0.3 for 2")
    assert breaches(rule, points(0.5, 0.5, 0.5, 0.1, 0.5, 0.5)) == [
        False, True, True, False, False, True,
    ]  # fmt: skip
    assert breaches(rule, points(0.5, None, 0.5, 0.5)) == [False, None, False, True]
    assert breaches(rule, points(0.5, 0.5, 0.5, gap_after=0)) == [False, False, True]


def alert(window: int, *, status: AlertStatus = AlertStatus.FIRING, last: int | None = None,
          resolved: int | None = None) -> Alert:  # fmt: skip
    last_end = (last if last is not None else window + 1) * HOUR
    return Alert(
        id="a" * 32, monitor="m", rule="r", figure="rows", operator=Operator.GT, threshold=1.0,
        severity=Severity.WARNING, status=status, value=2.0, window_start=window * HOUR,
        window_end=(window + 1) * HOUR, last_window_end=last_end, last_value=2.0,
        resolved_window_end=None if resolved is None else resolved * HOUR,
    )  # fmt: skip


def at(window: int, value: float | None = 2.0) -> Point:
    return Point(window * HOUR, (window + 1) * HOUR, value)


def test_decisions_fire_once_extend_resolve_and_cool_down() -> None:
    rule = parse_rule("rows > 1 cooldown=4h")
    assert decide(rule, None, at(1), True) is Decision.FIRE
    assert decide(rule, None, at(1), False) is Decision.NONE
    assert decide(rule, None, at(1), None) is Decision.NONE
    firing = alert(1)
    assert decide(rule, firing, at(2), True) is Decision.EXTEND
    assert decide(rule, firing, at(2), None) is Decision.NONE  # unknown: keep it open
    assert decide(rule, firing, at(3), False) is Decision.RESOLVE
    assert decide(rule, firing, at(1), True) is Decision.NONE  # judged already (re-evaluation)
    assert decide(rule, firing, at(0), True) is Decision.NONE  # older than the alert
    resolved = alert(1, status=AlertStatus.RESOLVED, last=3, resolved=4)
    assert decide(rule, resolved, at(3), True) is Decision.NONE
    assert decide(rule, resolved, at(4), True) is Decision.SUPPRESS  # 5h - 2h < 4h
    assert decide(rule, resolved, at(5), True) is Decision.FIRE
    assert decide(replace(rule, cooldown_ms=0), resolved, at(4), True) is Decision.FIRE
