"""Monitors written as YAML (``noria monitor create --file monitor.yaml``).

.. code-block:: yaml

    name: credit-api                   # optional: the deployment's name
    deployment: credit-api
    reference: datasets:/credit/3      # @latest is pinned to its version when created
    window: 1h
    delay: 2m                          # optional: wait this long after a window closes
    label_horizon: 7d                  # optional: re-evaluate windows this old for late labels
    start: 2025-01-01T00:00:00Z        # optional: the first window (default: now)
    label_column: default              # optional: the reference's label column
    task: classification               # optional: inferred from the label column
    features: [age, income]            # optional: the model's signature inputs
    rules:
      - drift.share_drifted > 0.3 for 2 severity=critical action=webhook:https://hooks.example/x
      - figure: performance.accuracy
        operator: "<"
        threshold: 0.8
        for: 2
        severity: warning
        cooldown: 6h
        actions: [log, "trigger:retrain-credit"]

Mistakes are ``InvalidArgument`` errors naming the file, the line and the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from noria.domain.alerts import DEFAULT_ACTIONS, AlertRule, parse_action, parse_severity
from noria.domain.monitor_rules import parse_rule
from noria.domain.monitors import TASKS, parse_duration
from noria.domain.yaml_errors import yaml_syntax_error
from noria.errors import InvalidArgument
from noria.monitoring.definition import MonitorSpec

_TOP = ("name", "deployment", "reference", "window", "delay", "label_horizon", "start",
        "label_column", "task", "features", "description", "rules")  # fmt: skip
_RULE = ("name", "figure", "operator", "threshold", "for", "severity", "cooldown", "actions")


def parse_monitor(text: str, *, source: str = "monitor.yaml") -> MonitorSpec:
    """Read a monitor spec; every error names ``source``, the line and the field."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise yaml_syntax_error(exc, source) from None
    try:
        fields = _fields(root, _TOP, source)
        values = {key: loader.construct_object(node, deep=True) for key, node in fields.items()}
        for required in ("deployment", "reference"):
            if not isinstance(values.get(required), str) or not values[required]:
                line = fields[required].start_mark.line + 1 if required in fields else 1
                raise InvalidArgument(f"{source} line {line}: {required} must be given as text")
        rules = tuple(
            _rule(loader, node, f"{source} line {node.start_mark.line + 1}, rules[{index}]")
            for index, node in enumerate(_sequence(fields.get("rules"), source, "rules"))
        )
        return MonitorSpec(
            deployment=values["deployment"],
            reference=values["reference"],
            window=_text(values, fields, "window", source) or "1h",
            name=_text(values, fields, "name", source),
            features=_features(values, fields, source),
            label_column=_text(values, fields, "label_column", source),
            task=_task(values, fields, source),
            rules=rules,
            delay=_text(values, fields, "delay", source) or "2m",
            label_horizon=_text(values, fields, "label_horizon", source) or "7d",
            start=_start(values.get("start")),
            description=_text(values, fields, "description", source) or "",
        )
    finally:
        loader.dispose()


def _fields(node: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else 1
        raise InvalidArgument(f"{where} line {line}: expected a mapping of {', '.join(allowed)}")
    fields: dict[str, Any] = {}
    for key, value in node.value:
        name = str(key.value)
        if name not in allowed or name in fields:
            problem = (
                "is given twice" if name in fields else f"is unknown; use {', '.join(allowed)}"
            )
            raise InvalidArgument(
                f"{where} line {key.start_mark.line + 1}: field {name!r} {problem}"
            )
        fields[name] = value
    return fields


def _sequence(node: Any, source: str, field: str) -> list[Any]:
    import yaml

    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise InvalidArgument(f"{source} line {node.start_mark.line + 1}: {field} must be a list")
    return list(node.value)


def _text(values: dict[str, Any], fields: dict[str, Any], key: str, source: str) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidArgument(
            f"{source} line {fields[key].start_mark.line + 1}: {key} must be text"
        )
    return str(value)


def _features(
    values: dict[str, Any], fields: dict[str, Any], source: str
) -> tuple[str, ...] | None:
    value = values.get("features")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        line = fields["features"].start_mark.line + 1
        raise InvalidArgument(f"{source} line {line}: features must be a list of column names")
    return tuple(value)


def _task(values: dict[str, Any], fields: dict[str, Any], source: str) -> Any:
    task = values.get("task")
    if task is not None and task not in TASKS:
        line = fields["task"].start_mark.line + 1
        raise InvalidArgument(f"{source} line {line}: task {task!r} is unknown; use {TASKS}")
    return task


def _start(value: Any) -> datetime | str | None:
    if value is None or isinstance(value, datetime | str):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return str(value)


def _rule(loader: Any, node: Any, where: str) -> AlertRule:
    import yaml

    try:
        if isinstance(node, yaml.ScalarNode):
            return parse_rule(str(loader.construct_object(node)))
        fields = _fields(node, _RULE, where)
        values = {key: loader.construct_object(item, deep=True) for key, item in fields.items()}
        for required in ("figure", "operator", "threshold"):
            if required not in values:
                raise InvalidArgument(f"missing field {required!r}")
        actions = values.get("actions", [str(action) for action in DEFAULT_ACTIONS])
        if not isinstance(actions, list):
            raise InvalidArgument("actions must be a list, e.g. [log, 'webhook:https://…']")
        return AlertRule(
            figure=str(values["figure"]),
            operator=values["operator"],
            threshold=values["threshold"],
            for_windows=values.get("for", 1),
            severity=parse_severity(values.get("severity", "warning")),
            cooldown_ms=parse_duration(str(values.get("cooldown", "0s")), what="cooldown"),
            actions=tuple(parse_action(str(action)) for action in actions) or DEFAULT_ACTIONS,
            name=str(values.get("name", "")),
        )
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc.message}") from None
