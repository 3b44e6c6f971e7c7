"""Monitors: what is watched on a deployment's prediction log, each window's figures, alerts.

A :class:`Monitor` evaluates its deployment's traffic in fixed windows (``1h``: aligned to the
clock, [00:00, 01:00), [01:00, 02:00), …) against a pinned reference dataset version, and keeps
one :class:`MonitorResult` per window: flat, named figures such as ``drift.share_drifted``,
``feature.income.drift_score``, ``latency.p99_ms`` or ``performance.accuracy``. Its alert
rules watch those figures (:mod:`noria.domain.alerts`, :mod:`noria.domain.monitor_rules`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from noria.domain.entities import EntityKind, EntityRef
from noria.errors import InvalidArgument

if TYPE_CHECKING:
    from noria.domain.alerts import AlertRule

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_PINNED_DATASET = re.compile(r"datasets:/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/[1-9][0-9]{0,9}")
_DURATION = re.compile(r"\s*([0-9]+)\s*(s|m|h|d|w)\s*")
_UNITS_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000}
MIN_WINDOW_MS = 60_000  # the prediction log writes segments up to a minute after the rows
MAX_WINDOW_MS = 31 * 86_400_000
MAX_RULES = 50
MAX_FEATURES = 1000
MAX_DESCRIPTION_LENGTH = 5000
Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

# Figures every window may have; feature.<name>.<stat>, performance.<metric> and
# quality.<anomaly kind> are families whose names depend on the monitor.
WINDOW_FIGURES = (
    "rows",
    "requests",
    "labels.count",
    "labels.coverage",
    "drift.share_drifted",
    "drift.drifted_count",
    "drift.tested_count",
    "prediction.drift_score",
    "prediction.p_value",
    "prediction.drifted",
    "quality.anomalies",
    "quality.errors",
    "quality.warnings",
    "latency.p50_ms",
    "latency.p95_ms",
    "latency.p99_ms",
    "latency.mean_ms",
    "errors.count",
    "errors.rate",
    "errors.invalid_count",
    "errors.invalid_rate",
)
FEATURE_STATS = ("drift_score", "p_value", "drifted")


def parse_duration(text: str | int, *, what: str = "duration") -> int:
    """``"15m"`` → 900000 (ms). Units: s, m, h, d, w; an int is already ms."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise InvalidArgument(f"The {what} {text} ms is negative; use e.g. 15m or 1h.")
        return text
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidArgument(
            f"Invalid {what} {text!r}: write a number and a unit (s, m, h, d or w), "
            "e.g. 30s, 15m, 1h, 7d."
        )
    return int(match[1]) * _UNITS_MS[match[2]]


def format_duration(ms: int) -> str:
    """The largest unit that says ``ms`` exactly: 3600000 → ``1h``, 90000 → ``90s``."""
    for unit, size in _UNITS_MS.items():
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms / 1000:g}s"


def iso_time(ms: int) -> str:
    """A window bound for people and keys: ``2025-01-01T00:00:00Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_monitor_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"Invalid monitor name {name!r}: use 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_figure(path: str) -> str:
    """A figure path's shape: one of :data:`WINDOW_FIGURES`, or a family member."""
    if path in WINDOW_FIGURES:
        return path
    family, _, rest = path.partition(".")
    if family == "feature":
        name, _, stat = rest.rpartition(".")
        if name and stat in FEATURE_STATS:
            return path
    elif family in ("performance", "quality") and rest:
        return path
    raise InvalidArgument(
        f"Unknown figure {path!r}: use one of {', '.join(WINDOW_FIGURES)}, or "
        f"feature.<name>.<{'|'.join(FEATURE_STATS)}>, performance.<metric> "
        "(e.g. performance.accuracy) or quality.<anomaly kind> (e.g. quality.null_values)."
    )


@dataclass(frozen=True, slots=True)
class Monitor:
    """A deployment's traffic, watched per window against a pinned reference dataset version.

    ``features`` are the monitored input columns (resolved when the monitor is created);
    ``label_column`` is the reference's label (its distribution is the baseline for
    prediction drift); ``task`` picks the metric suite for labelled rows. Windows start at
    ``start_ms`` and are evaluated ``delay_ms`` after they close; windows up to
    ``label_horizon_ms`` old are evaluated again when late labels arrive.
    """

    name: str
    deployment: str
    reference: str  # datasets:/<name>/<version>, pinned
    window_ms: int
    features: tuple[str, ...]
    start_ms: int
    label_column: str | None = None
    task: Task | None = None
    rules: tuple[AlertRule, ...] = ()
    delay_ms: int = 120_000
    label_horizon_ms: int = 7 * 86_400_000
    description: str = ""
    created_by: str = ""
    created_at: int = 0  # ms, set by the store

    def __post_init__(self) -> None:
        check_monitor_name(self.name)
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "rules", tuple(self.rules))
        if not re.fullmatch(
            r"datasets:/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/[1-9][0-9]*", self.reference
        ):
            raise InvalidArgument(
                f"Monitor {self.name!r}: reference {self.reference!r} must pin a dataset "
                "version, e.g. datasets:/credit/3."
            )
        if not MIN_WINDOW_MS <= self.window_ms <= MAX_WINDOW_MS:
            raise InvalidArgument(
                f"Monitor {self.name!r}: window {format_duration(self.window_ms)} is out of "
                f"range; use {format_duration(MIN_WINDOW_MS)} to {format_duration(MAX_WINDOW_MS)}."
            )
        if self.start_ms % self.window_ms:
            raise InvalidArgument(f"Monitor {self.name!r}: start_ms is not on a window boundary.")
        if self.delay_ms < 0 or self.label_horizon_ms < 0:
            raise InvalidArgument(f"Monitor {self.name!r}: delay and label horizon must be ≥ 0.")
        if self.task is not None and self.task not in TASKS:
            raise InvalidArgument(
                f"Monitor {self.name!r}: unknown task {self.task!r}; use classification or "
                "regression."
            )
        _check_lists(self)
        if len(self.description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidArgument(
                f"Monitor {self.name!r}: the description is longer than "
                f"{MAX_DESCRIPTION_LENGTH} characters."
            )

    def rule(self, name: str) -> AlertRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise InvalidArgument(
            f"Monitor {self.name!r} has no rule {name!r}; its rules are "
            f"{[rule.name for rule in self.rules]}."
        )

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.MONITOR, self.name)


def _check_lists(monitor: Monitor) -> None:
    if not monitor.features or len(monitor.features) > MAX_FEATURES:
        raise InvalidArgument(
            f"Monitor {monitor.name!r} watches {len(monitor.features)} features; give 1 to "
            f"{MAX_FEATURES}."
        )
    if len(set(monitor.features)) != len(monitor.features):
        raise InvalidArgument(f"Monitor {monitor.name!r} names a feature twice.")
    if len(monitor.rules) > MAX_RULES:
        raise InvalidArgument(f"Monitor {monitor.name!r} has more than {MAX_RULES} rules.")
    names = [rule.name for rule in monitor.rules]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise InvalidArgument(
            f"Monitor {monitor.name!r} has two rules named {twice}: give one a name=…"
        )


def result_entity(monitor: str, window_start_ms: int) -> EntityRef:
    """The lineage node of one window's result: ``monitors:/<name>/<window start>``."""
    return EntityRef(EntityKind.MONITOR, f"{monitor}/{iso_time(window_start_ms)}")


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """One window's figures. ``labels`` is how many of its rows had labels when it was
    computed; ``revision`` counts computations (late labels make more)."""

    monitor: str
    window_start: int  # ms, inclusive
    window_end: int  # ms, exclusive
    rows: int
    labels: int
    figures: Mapping[str, float]
    details: Mapping[str, Any] = field(default_factory=dict)
    computed_at: int = 0
    revision: int = 0

    def figure(self, path: str) -> float | None:
        return self.figures.get(path)

    def entity(self) -> EntityRef:
        return result_entity(self.monitor, self.window_start)


@dataclass(frozen=True, slots=True)
class ResultMark:
    """What the store knows of an evaluated window without its figures."""

    window_start: int
    labels: int
    computed_at: int
