"""Monitor shapes: monitors with their rules, per-window results, and alerts."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from noria.domain.alerts import (
    ActionOutcome,
    Alert,
    AlertRule,
    AlertStatus,
    Operator,
    OutcomeStatus,
    Severity,
    parse_action,
)
from noria.domain.monitors import Monitor, MonitorResult, ResultMark, Task
from noria.wire.common import WireModel


class RuleBody(WireModel):
    name: str
    figure: str
    operator: Operator
    threshold: float
    for_windows: int = Field(default=1, ge=1)
    severity: Severity = Severity.WARNING
    cooldown_ms: int = Field(default=0, ge=0)
    actions: list[str] = Field(default_factory=lambda: ["log"])

    @classmethod
    def from_domain(cls, rule: AlertRule) -> RuleBody:
        return cls.model_validate(rule.to_dict())

    def to_domain(self) -> AlertRule:
        return AlertRule(
            figure=self.figure,
            operator=self.operator,
            threshold=self.threshold,
            for_windows=self.for_windows,
            severity=self.severity,
            cooldown_ms=self.cooldown_ms,
            actions=tuple(parse_action(text) for text in self.actions),
            name=self.name,
        )


class MonitorBody(WireModel):
    """Sent to create one (the server sets ``created_at``)."""

    name: str
    deployment: str
    reference: str
    window_ms: int
    features: list[str]
    start_ms: int
    label_column: str | None = None
    task: Task | None = None
    rules: list[RuleBody] = Field(default_factory=list)
    delay_ms: int = Field(ge=0)
    label_horizon_ms: int = Field(ge=0)
    description: str = ""
    created_by: str = ""
    created_at: int = 0

    @classmethod
    def from_domain(cls, monitor: Monitor) -> MonitorBody:
        return cls(
            name=monitor.name,
            deployment=monitor.deployment,
            reference=monitor.reference,
            window_ms=monitor.window_ms,
            features=list(monitor.features),
            start_ms=monitor.start_ms,
            label_column=monitor.label_column,
            task=monitor.task,
            rules=[RuleBody.from_domain(rule) for rule in monitor.rules],
            delay_ms=monitor.delay_ms,
            label_horizon_ms=monitor.label_horizon_ms,
            description=monitor.description,
            created_by=monitor.created_by,
            created_at=monitor.created_at,
        )

    def to_domain(self) -> Monitor:
        return Monitor(
            name=self.name,
            deployment=self.deployment,
            reference=self.reference,
            window_ms=self.window_ms,
            features=tuple(self.features),
            start_ms=self.start_ms,
            label_column=self.label_column,
            task=self.task,
            rules=tuple(rule.to_domain() for rule in self.rules),
            delay_ms=self.delay_ms,
            label_horizon_ms=self.label_horizon_ms,
            description=self.description,
            created_by=self.created_by,
            created_at=self.created_at,
        )


class MonitorPage(WireModel):
    monitors: list[MonitorBody]
    next_page_token: str | None = None


class LeaseBody(WireModel):
    """Claim a monitor's lease (``POST …/lease``) until ``now_ms + lease_ms``."""

    owner: str = Field(min_length=1, max_length=128)
    now_ms: int = Field(ge=0)
    lease_ms: int = Field(ge=1)


class LeaseRelease(WireModel):
    owner: str = Field(min_length=1, max_length=128)


class LeaseAnswer(WireModel):
    claimed: bool


class ResultBody(WireModel):
    """One window's result; figures are finite numbers (a window without one leaves it out)."""

    monitor: str
    window_start: int
    window_end: int
    rows: int = Field(ge=0)
    labels: int = Field(ge=0)
    figures: dict[str, float]
    details: dict[str, Any] = Field(default_factory=dict)
    computed_at: int = 0
    revision: int = 0

    @classmethod
    def from_domain(cls, result: MonitorResult) -> ResultBody:
        return cls(
            monitor=result.monitor,
            window_start=result.window_start,
            window_end=result.window_end,
            rows=result.rows,
            labels=result.labels,
            figures=dict(result.figures),
            details=dict(result.details),
            computed_at=result.computed_at,
            revision=result.revision,
        )

    def to_domain(self) -> MonitorResult:
        return MonitorResult(
            monitor=self.monitor,
            window_start=self.window_start,
            window_end=self.window_end,
            rows=self.rows,
            labels=self.labels,
            figures=self.figures,
            details=self.details,
            computed_at=self.computed_at,
            revision=self.revision,
        )


class ResultPage(WireModel):
    results: list[ResultBody]
    next_page_token: str | None = None


class MarkBody(WireModel):
    window_start: int
    labels: int
    computed_at: int

    def to_domain(self) -> ResultMark:
        return ResultMark(self.window_start, self.labels, self.computed_at)


class MarkList(WireModel):
    marks: list[MarkBody]


class SeriesBody(WireModel):
    """One figure over time: parallel lists, oldest window first."""

    window_starts: list[int]
    values: list[float]


class OutcomeBody(WireModel):
    action: str
    status: OutcomeStatus
    detail: str = ""
    attempts: int = 0


class AlertBody(WireModel):
    id: str
    monitor: str
    rule: str
    figure: str
    operator: Operator
    threshold: float
    severity: Severity
    status: AlertStatus
    value: float
    window_start: int
    window_end: int
    last_window_end: int
    last_value: float
    occurrences: int = 1
    resolved_window_end: int | None = None
    fired_at: int = 0
    updated_at: int = 0
    message: str = ""
    actions: list[OutcomeBody] = Field(default_factory=list)

    @classmethod
    def from_domain(cls, alert: Alert) -> AlertBody:
        fields = {name: getattr(alert, name) for name in cls.model_fields if name != "actions"}
        actions = [OutcomeBody.model_validate(outcome.to_dict()) for outcome in alert.actions]
        return cls(**fields, actions=actions)

    def to_domain(self) -> Alert:
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        fields["actions"] = tuple(
            ActionOutcome.from_dict(outcome.model_dump(mode="json")) for outcome in self.actions
        )
        return Alert(**fields)


class AlertPage(WireModel):
    alerts: list[AlertBody]
    next_page_token: str | None = None
