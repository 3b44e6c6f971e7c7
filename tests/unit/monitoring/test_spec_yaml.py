"""Monitor YAML: both rule forms, and errors naming the file, line and field."""

from __future__ import annotations

from datetime import datetime

import pytest

from noria.domain.alerts import ActionKind, ActionSpec, Operator, Severity
from noria.errors import InvalidArgument
from noria.monitoring.spec_yaml import parse_monitor

FULL = """\
name: credit-watch
deployment: credit-api
reference: datasets:/credit/3
window: 15m
delay: 1m
label_horizon: 2d
start: 2025-01-01T00:00:00Z
label_column: default
task: classification
features: [age, income]
description: Credit traffic
rules:
  - drift.share_drifted > 0.3 for 2 severity=critical
  - figure: performance.accuracy
    operator: "<"
    threshold: 0.8
    for: 2
    cooldown: 6h
    actions: [log, "webhook:https://hooks.example/noria"]
"""


def test_every_field_and_both_rule_forms() -> None:
    spec = parse_monitor(FULL)
    assert (spec.name, spec.deployment, spec.reference, spec.window) == (
        "credit-watch", "credit-api", "datasets:/credit/3", "15m",
    )  # fmt: skip
    assert (spec.delay, spec.label_horizon, spec.label_column, spec.task) == (
        "1m", "2d", "default", "classification",
    )  # fmt: skip
    assert isinstance(spec.start, datetime) and spec.features == ("age", "income")
    text_rule, mapped = spec.rules
    assert (text_rule.for_windows, text_rule.severity) == (2, Severity.CRITICAL)
    assert (mapped.figure, mapped.operator, mapped.threshold, mapped.cooldown_ms) == (
        "performance.accuracy", Operator.LT, 0.8, 6 * 3_600_000,
    )  # fmt: skip
    assert mapped.actions == (
        ActionSpec(ActionKind.LOG), ActionSpec(ActionKind.WEBHOOK, "https://hooks.example/noria")
    )  # fmt: skip


def test_the_smallest_spec_gets_defaults() -> None:
    spec = parse_monitor("deployment: credit-api\nreference: datasets:/credit/3\n")
    assert (spec.window, spec.delay, spec.label_horizon, spec.rules) == ("1h", "2m", "7d", ())
    assert spec.name is None and spec.features is None and spec.start is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "deployment: a\nreference: datasets:/r/1\nwindw: 1h\n",
            "m.yaml line 3: field 'windw' is unknown",
        ),
        ("reference: datasets:/r/1\n", "m.yaml line 1: deployment must be given"),
        (
            "deployment: a\nreference: datasets:/r/1\ntask: ranking\n",
            "line 3: task 'ranking' is unknown",
        ),
        (
            "deployment: a\nreference: datasets:/r/1\nrules:\n  - rows >\n",
            "line 4, rules[0]: Rule 'rows >'",
        ),
        (
            "deployment: a\nreference: datasets:/r/1\nrules:\n"
            "  - figure: rows\n    operator: '>'\n",
            "line 4, rules[0]: missing field 'threshold'",
        ),
        ("deployment: a\nreference: [\n", "m.yaml line 3: not valid YAML"),
        (
            "deployment: a\nreference: datasets:/r/1\nfeatures: age\n",
            "line 3: features must be a list",
        ),
    ],
)
def test_mistakes_name_the_line_and_field(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_monitor(text, source="m.yaml")
