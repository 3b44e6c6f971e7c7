"""Gate policies as YAML: a list of rules a candidate model must meet.

.. code-block:: yaml

    rules:
      - roc_auc >= 0.80                              # an absolute threshold
      - log_loss <= 0.45
      - roc_auc >= champion.roc_auc - 0.005          # a comparison with the champion
      - {metric: f1, op: ">=", value: 0.7}           # the mapping form of a threshold
      - {metric: f1, op: ">=", champion_offset: 0}   # ... and of a comparison
    within_noise: pass    # or fail: how a comparison the data cannot decide counts

Mistakes are ``InvalidArgument`` errors naming the file, the line and the rule, e.g.
``gate.yaml line 3, rules[1]: unknown metric 'auc'; expected one of accuracy, …``.
"""

from __future__ import annotations

import re
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict

from noria.domain.yaml_errors import yaml_syntax_error
from noria.errors import InvalidArgument
from noria.evaluation.metrics import ALL_METRICS

Operator = Literal[">=", ">", "<=", "<"]
OPERATORS: tuple[Operator, ...] = (">=", ">", "<=", "<")
_UNSIGNED = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = rf"[+-]?{_UNSIGNED}"
_RULE = re.compile(r"^\s*(?P<metric>[A-Za-z_]\w*)\s*(?P<op>[<>=!]+)\s*(?P<rhs>.*?)\s*$")
_CHAMPION = re.compile(
    rf"^champion\.(?P<metric>[A-Za-z_]\w*)(?:\s*(?P<sign>[+-])\s*(?P<offset>{_UNSIGNED}))?$"
)
_MAPPING_FIELDS = ("metric", "op", "value", "champion_offset")


class GateRule(BaseModel):
    """``metric op value``, or ``metric op champion.metric + champion_offset``."""

    model_config = ConfigDict(frozen=True)

    metric: str
    op: Operator
    value: float | None = None
    champion_offset: float | None = None
    line: int | None = None

    @property
    def compares_with_champion(self) -> bool:
        return self.champion_offset is not None

    def __str__(self) -> str:
        if self.champion_offset is None:
            return f"{self.metric} {self.op} {self.value:g}"
        offset = self.champion_offset
        shift = f" {'-' if offset < 0 else '+'} {abs(offset):g}" if offset else ""
        return f"{self.metric} {self.op} champion.{self.metric}{shift}"


class GatePolicy(BaseModel):
    """The rules, in file order; ``within_noise`` says whether an undecided comparison passes."""

    model_config = ConfigDict(frozen=True)

    rules: tuple[GateRule, ...]
    within_noise: Literal["pass", "fail"] = "pass"
    source: str = "gate.yaml"


def parse_gate_policy(text: str, *, source: str = "gate.yaml") -> GatePolicy:
    """Read a gate policy; every error names ``source``, the line and the field."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise yaml_syntax_error(exc, source) from None
    try:
        return _policy(loader, root, source)
    finally:
        loader.dispose()


def _policy(loader: Any, root: Any, source: str) -> GatePolicy:
    import yaml

    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise InvalidArgument(f"{source} line {line}: expected a mapping with `rules:` (a list)")
    fields: dict[str, tuple[Any, Any]] = {}
    for key, value in root.value:
        name, line = str(key.value), key.start_mark.line + 1
        if name not in ("rules", "within_noise") or name in fields:
            problem = (
                "is given twice" if name in fields else "is unknown; expected rules or within_noise"
            )
            raise InvalidArgument(f"{source} line {line}: field {name!r} {problem}")
        fields[name] = (key, value)
    if "rules" not in fields:
        raise InvalidArgument(f"{source} line 1: missing `rules:` (a list of rules)")
    key, rules_node = fields["rules"]
    if not isinstance(rules_node, yaml.SequenceNode) or not rules_node.value:
        raise InvalidArgument(
            f"{source} line {key.start_mark.line + 1}, rules: expected a non-empty list of "
            "rules such as `- roc_auc >= 0.8`"
        )
    rules = tuple(
        _rule(loader, node, f"{source} line {node.start_mark.line + 1}, rules[{index}]")
        for index, node in enumerate(rules_node.value)
    )
    return GatePolicy(rules=rules, within_noise=_within_noise(fields, source), source=source)


def _within_noise(fields: dict[str, Any], source: str) -> Literal["pass", "fail"]:
    if "within_noise" not in fields:
        return "pass"
    key, node = fields["within_noise"]
    if node.value not in ("pass", "fail"):
        raise InvalidArgument(
            f"{source} line {key.start_mark.line + 1}, within_noise: {node.value!r} is not "
            "pass or fail"
        )
    return cast(Literal["pass", "fail"], node.value)


def _rule(loader: Any, node: Any, where: str) -> GateRule:
    import yaml

    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and isinstance(loader.construct_object(node), str):
        return _rule_from_text(node.value, line, where)
    if isinstance(node, yaml.MappingNode):
        mapping = {str(key.value): loader.construct_object(value) for key, value in node.value}
        return _rule_from_mapping(mapping, line, where)
    raise InvalidArgument(
        f"{where}: a rule is text such as `roc_auc >= 0.8` or a mapping with metric, op, "
        "and value or champion_offset"
    )


def _rule_from_text(text: str, line: int, where: str) -> GateRule:
    match = _RULE.match(text)
    if match is None:
        raise InvalidArgument(
            f"{where}: cannot read {text!r}; write `metric op number` or "
            "`metric op champion.metric - margin`, e.g. `roc_auc >= 0.8`"
        )
    metric, op, rhs = match["metric"], _operator(match["op"], where), match["rhs"]
    _check_metric(metric, where)
    if re.fullmatch(_NUMBER, rhs):
        return GateRule(metric=metric, op=op, value=float(rhs), line=line)
    champion = _CHAMPION.match(rhs)
    if champion is None:
        raise InvalidArgument(
            f"{where}: {rhs!r} after {op!r} is neither a number nor "
            f"`champion.{metric}` with an optional `+ number` or `- number`"
        )
    if champion["metric"] != metric:
        raise InvalidArgument(
            f"{where}: {metric!r} is compared with champion.{champion['metric']}; "
            f"compare a metric with itself, e.g. `champion.{metric}`"
        )
    offset = float(champion["offset"] or 0.0) * (-1.0 if champion["sign"] == "-" else 1.0)
    return GateRule(metric=metric, op=op, champion_offset=offset, line=line)


def _rule_from_mapping(mapping: dict[str, Any], line: int, where: str) -> GateRule:
    unknown = sorted(set(mapping) - set(_MAPPING_FIELDS))
    if unknown:
        raise InvalidArgument(
            f"{where}: unknown field {unknown[0]!r}; expected {', '.join(_MAPPING_FIELDS)}"
        )
    for name in ("metric", "op"):
        if not isinstance(mapping.get(name), str):
            raise InvalidArgument(f"{where}: missing or non-text field {name!r}")
    _check_metric(mapping["metric"], where)
    op = _operator(mapping["op"], where)
    bounds = [name for name in ("value", "champion_offset") if mapping.get(name) is not None]
    if len(bounds) != 1:
        raise InvalidArgument(
            f"{where}: give exactly one of value (a threshold) or champion_offset "
            "(a comparison with the champion)"
        )
    number = mapping[bounds[0]]
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise InvalidArgument(f"{where}, {bounds[0]}: {number!r} is not a number")
    return GateRule(metric=mapping["metric"], op=op, line=line, **{bounds[0]: float(number)})


def _operator(op: str, where: str) -> Operator:
    if op not in OPERATORS:
        raise InvalidArgument(f"{where}: bad operator {op!r}; use one of {', '.join(OPERATORS)}")
    return op


def _check_metric(metric: str, where: str) -> None:
    if metric not in ALL_METRICS:
        raise InvalidArgument(
            f"{where}: unknown metric {metric!r}; expected one of {', '.join(ALL_METRICS)}"
        )
