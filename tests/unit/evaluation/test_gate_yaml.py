"""Reading gate policies, and errors that name the line and the field."""

from __future__ import annotations

import pytest

from noria.errors import InvalidArgument
from noria.evaluation.gates import GateRule, parse_gate_policy

POLICY = """\
# promotion gate for the churn model
rules:
  - roc_auc >= 0.80
  - log_loss<=0.45
  - roc_auc >= champion.roc_auc - 0.005
  - f1 > champion.f1
  - {metric: accuracy, op: ">=", value: 0.9}
  - metric: rmse
    op: "<"
    champion_offset: 2.5
within_noise: fail
"""


def test_text_and_mapping_rules_parse_with_their_lines() -> None:
    policy = parse_gate_policy(POLICY, source="churn-gate.yaml")
    assert policy.within_noise == "fail"
    assert policy.source == "churn-gate.yaml"
    assert [rule.line for rule in policy.rules] == [3, 4, 5, 6, 7, 8]
    assert policy.rules[0] == GateRule(metric="roc_auc", op=">=", value=0.8, line=3)
    assert policy.rules[2] == GateRule(metric="roc_auc", op=">=", champion_offset=-0.005, line=5)
    assert policy.rules[3].champion_offset == 0.0
    assert policy.rules[5] == GateRule(metric="rmse", op="<", champion_offset=2.5, line=8)
    assert [str(rule) for rule in policy.rules] == [
        "roc_auc >= 0.8",
        "log_loss <= 0.45",
        "roc_auc >= champion.roc_auc - 0.005",
        "f1 > champion.f1",
        "accuracy >= 0.9",
        "rmse < champion.rmse + 2.5",
    ]
    assert parse_gate_policy("rules: [r2 >= 0.5]").within_noise == "pass"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  - roc_auc >= 0.8\n  - auc >= 0.8\n",
            r"gate.yaml line 3, rules\[1\]: unknown metric 'auc'",
        ),
        (
            "rules:\n  - roc_auc => 0.8\n",
            r"line 2, rules\[0\]: bad operator '=>'; use one of >=, >, <=, <",
        ),
        ("rules:\n  - roc_auc == 0.8\n", r"bad operator '=='"),
        (
            "rules:\n  - roc_auc >= high\n",
            r"'high' after '>=' is neither a number nor `champion.roc_auc`",
        ),
        ("rules:\n  - roc_auc >= champion.f1\n", r"'roc_auc' is compared with champion.f1"),
        ("rules:\n  - roc_auc >= champion.roc_auc * 2\n", r"neither a number"),
        ("rules:\n  - just words\n", r"cannot read 'just words'"),
        ("rules:\n  - 0.8\n", r"line 2, rules\[0\]: a rule is text"),
        ("rules:\n  - roc_auc >= 0.8\n   bad: [\n", r"gate.yaml line \d+: not valid YAML"),
        ("rules: []\n", r"line 1, rules: expected a non-empty list"),
        (
            "rule:\n  - roc_auc >= 0.8\n",
            r"line 1: field 'rule' is unknown; expected rules or within_noise",
        ),
        ("- roc_auc >= 0.8\n", r"line 1: expected a mapping with `rules:`"),
        ("", r"line 1: expected a mapping"),
        (
            "rules: [r2 >= 0.5]\nwithin_noise: maybe\n",
            r"line 2, within_noise: 'maybe' is not pass or fail",
        ),
        ("rules: [r2 >= 0.5]\nrules: [r2 >= 0.6]\n", r"line 2: field 'rules' is given twice"),
        (
            "rules:\n  - {metric: f1, op: '>=', value: 0.7, champion_offset: 0}\n",
            r"give exactly one of value .* or champion_offset",
        ),
        (
            "rules:\n  - {metric: f1, op: '>=', value: high}\n",
            r"rules\[0\], value: 'high' is not a number",
        ),
        ("rules:\n  - {metric: f1, op: '>=', valu: 0.7}\n", r"unknown field 'valu'"),
        ("rules:\n  - {op: '>=', value: 0.7}\n", r"missing or non-text field 'metric'"),
    ],
)
def test_mistakes_name_the_line_and_the_field(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_gate_policy(text)
