"""Alert rules and fired alerts: what to watch on a monitor's figures, and what happened.

An :class:`AlertRule` fires when ``figure operator threshold`` holds for N windows in a row;
its :class:`ActionSpec` list says what to do then (log, webhook, pipeline trigger). An
:class:`Alert` is one firing, with each action's :class:`ActionOutcome`. The one-line syntax
and the pure decisions (dedup, cooldown) are in :mod:`noria.domain.monitor_rules`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.monitors import check_figure
from noria.domain.schedules import check_event_name
from noria.errors import InvalidArgument

_E = TypeVar("_E", bound=StrEnum)
_WEBHOOK_URL = re.compile(r"https?://[^\s/]+\S*")
_COMPARISONS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def _enum(kind: type[_E], value: Any, what: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise InvalidArgument(f"Unknown {what} {value!r}: use one of {known}.") from None


class Operator(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="

    def holds(self, value: float, threshold: float) -> bool:
        return bool(_COMPARISONS[self.value](value, threshold))


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class ActionKind(StrEnum):
    LOG = "log"  # a warning in the process's log
    WEBHOOK = "webhook"  # HTTP POST of the alert as JSON, retried
    TRIGGER = "trigger"  # an event for the pipelines' event triggers (e.g. retraining)


DEFAULT_TRIGGER_EVENT = "monitor.alert"


def parse_severity(text: str) -> Severity:
    return _enum(Severity, text, "severity")


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What to do when an alert fires: ``log``, ``webhook:<url>`` or ``trigger[:<event>]``."""

    kind: ActionKind
    target: str = ""  # the webhook URL, or the trigger's event name

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _enum(ActionKind, self.kind, "action"))
        if self.kind is ActionKind.WEBHOOK and not re.fullmatch(
            r"https?://[^\s/]+\S*", self.target
        ):
            raise InvalidArgument(
                f"Webhook action needs an http(s) URL, got {self.target!r}: write "
                "action=webhook:https://hooks.example.com/noria."
            )
        if self.kind is ActionKind.TRIGGER:
            object.__setattr__(
                self, "target", check_event_name(self.target or DEFAULT_TRIGGER_EVENT)
            )
        if self.kind is ActionKind.LOG and self.target:
            raise InvalidArgument(f"The log action takes no target; got log:{self.target}.")

    def __str__(self) -> str:
        return self.kind.value if not self.target else f"{self.kind.value}:{self.target}"


DEFAULT_ACTIONS = (ActionSpec(ActionKind.LOG),)


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Fire when ``figure operator threshold`` holds for ``for_windows`` windows in a row.

    While it keeps holding, the alert stays open (no duplicate); after it fired, no new alert
    of this rule fires for ``cooldown_ms`` of window time.
    """

    figure: str
    operator: Operator
    threshold: float
    for_windows: int = 1
    severity: Severity = Severity.WARNING
    cooldown_ms: int = 0
    actions: tuple[ActionSpec, ...] = DEFAULT_ACTIONS
    name: str = ""

    def __post_init__(self) -> None:
        check_figure(self.figure)
        object.__setattr__(self, "operator", _enum(Operator, self.operator, "operator"))
        object.__setattr__(self, "severity", _enum(Severity, self.severity, "severity"))
        object.__setattr__(self, "actions", tuple(self.actions))
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidArgument(
                f"Rule on {self.figure}: threshold {threshold!r} is not a number."
            )
        if not math.isfinite(threshold):
            raise InvalidArgument(f"Rule on {self.figure}: threshold {threshold} is not finite.")
        object.__setattr__(self, "threshold", float(threshold))
        if isinstance(self.for_windows, bool) or not 1 <= self.for_windows <= 1000:
            raise InvalidArgument(
                f"Rule on {self.figure}: 'for {self.for_windows}' must be 1 to 1000 windows."
            )
        if self.cooldown_ms < 0:
            raise InvalidArgument(f"Rule on {self.figure}: the cooldown is negative.")
        if not self.name:
            object.__setattr__(self, "name", f"{self.figure} {self.operator.value} {threshold:g}")
        if len(self.name) > 200:
            raise InvalidArgument(f"Rule name {self.name[:40]!r}… is longer than 200 characters.")

    def holds(self, value: float) -> bool:
        return self.operator.holds(value, self.threshold)

    def to_dict(self) -> dict[str, Any]:
        """The stored and sent form (see :meth:`from_dict`)."""
        return {
            "name": self.name,
            "figure": self.figure,
            "operator": self.operator.value,
            "threshold": self.threshold,
            "for_windows": self.for_windows,
            "severity": self.severity.value,
            "cooldown_ms": self.cooldown_ms,
            "actions": [str(action) for action in self.actions],
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> AlertRule:
        return AlertRule(
            figure=data["figure"],
            operator=data["operator"],
            threshold=data["threshold"],
            for_windows=data.get("for_windows", 1),
            severity=data.get("severity", Severity.WARNING),
            cooldown_ms=data.get("cooldown_ms", 0),
            actions=tuple(parse_action(text) for text in data.get("actions", ["log"])),
            name=data.get("name", ""),
        )


def parse_action(text: str) -> ActionSpec:
    """``log``, ``webhook:https://…`` or ``trigger[:event-name]``."""
    kind, _, target = str(text).partition(":")
    if kind not in {k.value for k in ActionKind}:
        raise InvalidArgument(
            f"Unknown action {text!r}: use log, webhook:<url> or trigger[:<event name>]."
        )
    return ActionSpec(ActionKind(kind), target)


class AlertStatus(StrEnum):
    FIRING = "firing"  # the rule still holds on the newest window judged
    RESOLVED = "resolved"  # a later window no longer breached


class OutcomeStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    action: str  # the action as written, e.g. webhook:https://…
    status: OutcomeStatus
    detail: str = ""
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "status": self.status.value,
            "detail": self.detail,
            "attempts": self.attempts,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ActionOutcome:
        return ActionOutcome(
            action=str(data["action"]),
            status=OutcomeStatus(data["status"]),
            detail=str(data.get("detail", "")),
            attempts=int(data.get("attempts", 0)),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule that fired: on which window, with which value, and what its actions did.

    While the rule keeps holding the alert stays FIRING and ``last_window_end`` and
    ``occurrences`` grow instead of new alerts being made.
    """

    id: str
    monitor: str
    rule: str
    figure: str
    operator: Operator
    threshold: float
    severity: Severity
    status: AlertStatus
    value: float  # the figure's value on the window that fired it
    window_start: int
    window_end: int
    last_window_end: int
    last_value: float
    occurrences: int = 1
    resolved_window_end: int | None = None
    fired_at: int = 0
    updated_at: int = 0
    message: str = ""
    actions: tuple[ActionOutcome, ...] = ()

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.ALERT, self.id)
