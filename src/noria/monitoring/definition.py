"""A monitor as asked for (:class:`MonitorSpec`), checked against what it will watch.

Creating a monitor resolves everything a run relies on, once, so mistakes surface as one
clear error then and not at 3 a.m.: the deployment must exist and have a prediction log; the
reference is pinned to a version; the features default to the model's signature inputs (or
the reference's feature columns that the log holds) and must be both columns of the
reference and inputs in the log; the label column is the reference's (its ``label`` role by
default); rules may only name figures the monitor will have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from noria.domain.alerts import AlertRule
from noria.domain.monitors import Monitor, Task, check_monitor_name, parse_duration
from noria.errors import InvalidArgument
from noria.evaluation.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS

if TYPE_CHECKING:
    from noria.datasets.profiles import DatasetProfile
    from noria.datasets.schema import DatasetSchema
    from noria.domain.datasets import DatasetVersion
    from noria.domain.registry import ModelVersion

# A numeric label with more distinct values than this is taken for a regression target.
CLASSES_AT_MOST = 20
TimeLike = datetime | int | str


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """What a user asks for; ``None`` fields get their defaults when resolved."""

    deployment: str
    reference: str
    window: str | int = "1h"
    name: str | None = None
    features: tuple[str, ...] | None = None
    label_column: str | None = None
    task: Task | None = None
    rules: tuple[AlertRule, ...] = ()
    delay: str | int = "2m"
    label_horizon: str | int = "7d"
    start: TimeLike | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Grounds:
    """What the spec is checked against, read by the service."""

    reference: DatasetVersion
    profile: DatasetProfile
    schema: DatasetSchema
    logged_inputs: Sequence[str]
    served: ModelVersion | None  # the primary route's version, for its signature


def resolve(spec: MonitorSpec, grounds: Grounds, *, start_ms: int, user: str) -> Monitor:
    """The monitor to store, or InvalidArgument naming the first mistake and its fix."""
    name = check_monitor_name(spec.name or spec.deployment)
    uri = grounds.reference.uri
    columns = list(grounds.reference.column_names)
    label = spec.label_column or _label_role(grounds.schema)
    if label is not None and label not in columns:
        raise InvalidArgument(
            f"Label column {label!r} is not a column of reference {uri}; its columns are "
            f"{columns}. Give --label-column with one of them."
        )
    features = _features(spec, grounds, label)
    lacking = [feature for feature in features if feature not in columns]
    if lacking:
        raise InvalidArgument(
            f"Reference {uri} has other columns than what deployment {spec.deployment!r} is "
            f"monitored on: it lacks {lacking} (its columns are {columns}). Use the dataset "
            "version the model was trained on, or name the features with --features."
        )
    unlogged = [feature for feature in features if feature not in grounds.logged_inputs]
    if unlogged:
        raise InvalidArgument(
            f"Deployment {spec.deployment!r}'s prediction log has no input(s) {unlogged}; its "
            f"inputs are {sorted(grounds.logged_inputs)}. Name the monitored features with "
            "--features, or use the reference the model was trained on."
        )
    task = spec.task or (None if label is None else _task_of(grounds.profile, label))
    check_rule_figures(spec.rules, features=features, label_column=label, task=task)
    return Monitor(
        name=name,
        deployment=spec.deployment,
        reference=uri,
        window_ms=parse_duration(spec.window, what="window"),
        features=features,
        start_ms=start_ms,
        label_column=label,
        task=task,
        rules=spec.rules,
        delay_ms=parse_duration(spec.delay, what="delay"),
        label_horizon_ms=parse_duration(spec.label_horizon, what="label horizon"),
        description=spec.description,
        created_by=user,
    )


def _label_role(schema: DatasetSchema) -> str | None:
    return next((column.name for column in schema.columns if column.role == "label"), None)


def _features(spec: MonitorSpec, grounds: Grounds, label: str | None) -> tuple[str, ...]:
    if spec.features is not None:
        if not spec.features:
            raise InvalidArgument("--features is empty: name at least one input column.")
        return tuple(dict.fromkeys(spec.features))
    signed = _signature_inputs(grounds.served)
    if signed:
        return signed
    # No signature: the reference's feature columns that the model is sent.
    shared = tuple(
        column.name
        for column in grounds.schema.columns
        if column.role in (None, "feature")
        and column.name != label
        and column.name in grounds.logged_inputs
    )
    if not shared:
        raise InvalidArgument(
            f"Reference {grounds.reference.uri} has other columns than deployment "
            f"{spec.deployment!r} is sent: its columns are {list(grounds.reference.column_names)}, "
            f"the prediction log's inputs {sorted(grounds.logged_inputs)}. Use the dataset "
            "version the model was trained on."
        )
    return shared


def _signature_inputs(version: ModelVersion | None) -> tuple[str, ...]:
    """The named input columns of the served version's signature; () when it has none."""
    from noria.models.signature import ModelSignature, TableSchema

    if version is None or not version.signature_json:
        return ()
    inputs = ModelSignature.model_validate_json(version.signature_json).inputs
    return (
        tuple(column.name for column in inputs.columns) if isinstance(inputs, TableSchema) else ()
    )


def _task_of(profile: DatasetProfile, label: str) -> Task:
    column = profile.column(label)
    many = column.distinct_estimate > CLASSES_AT_MOST
    return "regression" if column.kind == "numeric" and many else "classification"


def check_rule_figures(
    rules: Sequence[AlertRule],
    *,
    features: Sequence[str],
    label_column: str | None,
    task: Task | None,
) -> None:
    """Each rule's figure is one this monitor will compute."""
    from noria.datasets.validation_checks import AnomalyKind

    metrics = {"classification": CLASSIFICATION_METRICS, "regression": REGRESSION_METRICS}
    for rule in rules:
        family, _, rest = rule.figure.partition(".")
        problem = None
        if family == "feature" and rest.rpartition(".")[0] not in features:
            problem = f"{rest.rpartition('.')[0]!r} is not a monitored feature ({list(features)})"
        elif family == "prediction" and label_column is None:
            problem = "prediction drift needs the reference's label column (--label-column)"
        elif family == "performance" and task is None:
            problem = "performance figures need a task (--task classification|regression)"
        elif family == "performance" and task is not None and rest not in metrics[task]:
            problem = f"{rest!r} is not a {task} metric ({', '.join(metrics[task])})"
        elif (
            family == "quality"
            and rest not in ("anomalies", "errors", "warnings")
            and rest not in {kind.value for kind in AnomalyKind}
        ):
            problem = f"{rest!r} is not an anomaly kind ({', '.join(k.value for k in AnomalyKind)})"
        if problem:
            raise InvalidArgument(f"Rule {rule.name!r}: {problem}.")
