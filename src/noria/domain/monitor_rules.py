"""Alert rules as people write them, and the pure decisions made on a series of windows.

A rule is one line::

    drift.share_drifted > 0.3 for 2 severity=critical cooldown=6h action=webhook:https://…

``<figure> <op> <number>``, then optionally ``for <N>`` (consecutive windows, default 1),
``severity=info|warning|critical``, ``cooldown=<duration>``, ``name=<text>`` and any number of
``action=log|webhook:<url>|trigger[:<event>]`` (default: one ``log``).

Deciding is pure: :func:`breaches` marks each window of a series, :func:`decide` says what a
window does to the rule's latest alert (fire, extend it, resolve it, or nothing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from noria.domain.alerts import (
    DEFAULT_ACTIONS,
    ActionSpec,
    Alert,
    AlertRule,
    AlertStatus,
    Operator,
    parse_action,
    parse_severity,
)
from noria.domain.monitors import format_duration, parse_duration
from noria.errors import InvalidArgument

# The figure is everything before the first operator, so feature names may hold spaces.
_RULE = re.compile(r"\s*(?P<figure>[^<>=!]+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<rest>.*)", re.S)
_OPTIONS = ("severity", "cooldown", "action", "name")
_EXAMPLE = "drift.share_drifted > 0.3 for 2 severity=critical action=webhook:https://…"


def parse_rule(text: str) -> AlertRule:
    """An :class:`AlertRule` from its one-line form; InvalidArgument names the bad part."""
    match = _RULE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidArgument(
            f"Rule {text!r} has no comparison: write <figure> <op> <number> …, e.g. {_EXAMPLE}"
        )
    tokens = match["rest"].split()
    if not tokens:
        raise InvalidArgument(f"Rule {text!r} has no threshold after {match['op']!r}.")
    threshold = _number(tokens[0], text)
    index, for_windows = 1, 1
    if len(tokens) > index and tokens[index] == "for":
        if len(tokens) == index + 1:
            raise InvalidArgument(f"Rule {text!r}: 'for' needs a number of windows, e.g. for 3.")
        for_windows = _count(tokens[index + 1], text)
        index += 2
        if len(tokens) > index and tokens[index] in ("window", "windows"):
            index += 1
    options: dict[str, str] = {}
    actions: list[ActionSpec] = []
    for token in tokens[index:]:
        key, sep, value = token.partition("=")
        if not sep or key not in _OPTIONS or not value:
            raise InvalidArgument(
                f"Rule {text!r}: cannot read {token!r}; after the threshold come 'for N' and "
                f"key=value options ({', '.join(_OPTIONS)}), e.g. {_EXAMPLE}"
            )
        if key == "action":
            actions.append(_action(value, text))
        elif key in options:
            raise InvalidArgument(f"Rule {text!r} gives {key}= twice.")
        else:
            options[key] = value
    try:
        return AlertRule(
            figure=match["figure"],
            operator=Operator(match["op"]),
            threshold=threshold,
            for_windows=for_windows,
            severity=parse_severity(options.get("severity", "warning")),
            cooldown_ms=parse_duration(options.get("cooldown", "0s"), what="cooldown"),
            actions=tuple(actions) or DEFAULT_ACTIONS,
            name=options.get("name", ""),
        )
    except InvalidArgument as exc:
        raise InvalidArgument(f"Rule {text!r}: {exc.message}") from None


def rule_text(rule: AlertRule) -> str:
    """The one-line form of ``rule``; :func:`parse_rule` reads it back to the same rule."""
    parts = [rule.figure, rule.operator.value, f"{rule.threshold:g}"]
    if rule.for_windows != 1:
        parts += ["for", str(rule.for_windows)]
    parts.append(f"severity={rule.severity.value}")
    if rule.cooldown_ms:
        parts.append(f"cooldown={format_duration(rule.cooldown_ms)}")
    parts += [f"action={action}" for action in rule.actions]
    default_name = f"{rule.figure} {rule.operator.value} {rule.threshold:g}"
    if rule.name != default_name and " " not in rule.name:
        parts.append(f"name={rule.name}")
    return " ".join(parts)


def _number(token: str, text: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise InvalidArgument(f"Rule {text!r}: threshold {token!r} is not a number.") from None


def _count(token: str, text: str) -> int:
    if not token.isdigit() or int(token) < 1:
        raise InvalidArgument(
            f"Rule {text!r}: 'for {token}' must be a whole number of windows, 1 or more."
        )
    return int(token)


def _action(value: str, text: str) -> ActionSpec:
    try:
        return parse_action(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Rule {text!r}: {exc.message}") from None


@dataclass(frozen=True, slots=True)
class Point:
    """One evaluated window of a series; ``value`` is None when it lacks the figure."""

    window_start: int
    window_end: int
    value: float | None


def breaches(rule: AlertRule, points: Sequence[Point]) -> list[bool | None]:
    """Per point (oldest first): whether the rule holds there and on the ``for_windows - 1``
    windows just before it. None where the point lacks the figure (unknown, e.g. no labels
    yet); a missing value or a gap between windows restarts the count."""
    marks: list[bool | None] = []
    streak = 0
    previous_end: int | None = None
    for point in points:
        if previous_end is not None and point.window_start != previous_end:
            streak = 0
        previous_end = point.window_end
        if point.value is None:
            streak = 0
            marks.append(None)
            continue
        streak = streak + 1 if rule.holds(point.value) else 0
        marks.append(streak >= rule.for_windows)
    return marks


class Decision(StrEnum):
    FIRE = "fire"  # a new alert
    EXTEND = "extend"  # the open alert covers one more window (deduplicated)
    RESOLVE = "resolve"  # the open alert's rule no longer holds
    SUPPRESS = "suppress"  # it holds again, but within the cooldown of the last alert
    NONE = "none"


def decide(rule: AlertRule, latest: Alert | None, point: Point, breached: bool | None) -> Decision:
    """What ``point`` does to the rule's ``latest`` alert.

    Windows at or before what the latest alert already judged change nothing, so evaluating
    a window again (late labels) never fires twice. The cooldown counts window time from the
    end of the window that fired the latest alert.
    """
    if breached is None:
        return Decision.NONE
    if latest is not None:
        judged = latest.last_window_end
        if latest.resolved_window_end is not None:
            judged = max(judged, latest.resolved_window_end)
        if point.window_end <= judged:
            return Decision.NONE
    firing = latest is not None and latest.status is AlertStatus.FIRING
    if not breached:
        return Decision.RESOLVE if firing else Decision.NONE
    if firing:
        return Decision.EXTEND
    if latest is not None and point.window_end - latest.window_end < rule.cooldown_ms:
        return Decision.SUPPRESS
    return Decision.FIRE
