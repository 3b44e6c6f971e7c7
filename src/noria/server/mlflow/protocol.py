"""MLflow's JSON shapes ⇄ Noria's tracking domain.

Noria keeps a run's name, user and parent in columns; MLflow shows them as the
system tags ``mlflow.runName``, ``mlflow.user`` and ``mlflow.parentRunId`` too.
The name can change, so it lives only in its column: a ``mlflow.runName`` tag from
the client renames the run, outgoing runs carry the tag, and searches on the tag are
read as searches on the name. User and parent never change; their tags are stored as
sent (so MLflow's searches on them work) and added on the way out when missing.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from typing import Any

from noria.domain.paging import MAX_PAGE_SIZE
from noria.domain.tracking import (
    Experiment,
    Metric,
    Param,
    Run,
    RunInfo,
    RunInput,
    RunStatus,
    RunTag,
    ViewType,
)
from noria.errors import InvalidArgument
from noria.server.mlflow import messages

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
PARENT_RUN_TAG = "mlflow.parentRunId"
DATASET_CONTEXT_TAG = "mlflow.data.context"
ARTIFACT_SCHEME = "mlflow-artifacts:"

# ``tags.mlflow.runName`` / ``tags.mlflow.parentRunId`` (bare, `backticked` or "quoted")
# outside string literals: Noria keeps both in run columns, not in tags.
_SYSTEM_TAG_REF = re.compile(
    r"""('(?:[^']|'')*')|\b(?i:tags?)\.(?P<q>[`"]?)mlflow\.(?P<tag>runName|parentRunId)(?P=q)(?![\w.])"""
)
_ATTRIBUTE_FOR_TAG = {"runName": "attributes.run_name", "parentRunId": "attributes.parent_id"}
_VIEW_TYPES = {"1": ViewType.ACTIVE_ONLY, "2": ViewType.DELETED_ONLY, "3": ViewType.ALL}
_STATUSES = {str(number): status for number, status in enumerate(RunStatus, start=1)}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_run_name() -> str:
    """MLflow names every run (its UI and client print the name); Noria may leave it empty."""
    return f"run-{secrets.token_hex(4)}"


# -- incoming ------------------------------------------------------------------------


def view_type(value: str | int | None) -> ViewType:
    """``ACTIVE_ONLY``/``DELETED_ONLY``/``ALL`` or their proto numbers 1/2/3."""
    if value is None or value == "":
        return ViewType.ACTIVE_ONLY
    text = str(value)
    found = _VIEW_TYPES.get(text) or ViewType.__members__.get(text.upper())
    if found is None:
        raise InvalidArgument(f"Invalid view type {value!r}: use ACTIVE_ONLY, DELETED_ONLY or ALL.")
    return found


def run_status(value: str | int) -> RunStatus:
    """A status name (``FINISHED``) or its proto number (3)."""
    text = str(value)
    found = _STATUSES.get(text) or RunStatus.__members__.get(text.upper())
    if found is None:
        raise InvalidArgument(f"Invalid run status {value!r}: use one of {', '.join(RunStatus)}.")
    return found


def page_size(max_results: int | None, default: int = MAX_PAGE_SIZE) -> int:
    """MLflow clients ask for up to 50 000 at once; Noria pages by at most 1000 and the
    client follows ``next_page_token`` for the rest."""
    if max_results is None or max_results == 0:
        return default
    if max_results < 0:
        raise InvalidArgument(f"max_results must be positive, got {max_results}.")
    return min(max_results, MAX_PAGE_SIZE)


def search_text(text: str) -> str:
    """A filter or order_by term with run-name and parent tags turned into attributes."""
    return _SYSTEM_TAG_REF.sub(
        lambda match: match.group(1) or _ATTRIBUTE_FOR_TAG[match.group("tag")], text
    )


def metric(raw: messages.MetricIn | messages.LogMetric) -> Metric:
    timestamp = raw.timestamp if raw.timestamp is not None else now_ms()
    return Metric(raw.key, raw.value, timestamp, raw.step)


def params(raw: Iterable[messages.KeyValue]) -> list[Param]:
    return [Param(item.key, item.value) for item in raw]


def split_run_name(tags: Iterable[messages.KeyValue]) -> tuple[str | None, list[RunTag]]:
    """The value of a ``mlflow.runName`` tag (a rename) and the other tags."""
    name: str | None = None
    rest: list[RunTag] = []
    for tag in tags:
        if tag.key == RUN_NAME_TAG:
            name = tag.value
        else:
            rest.append(RunTag(tag.key, tag.value))
    return name, rest


def dataset_input(raw: messages.DatasetInputIn) -> RunInput:
    tags = {tag.key: tag.value for tag in raw.tags}
    data = raw.dataset
    return RunInput(
        name=data.name,
        digest=data.digest,
        source_type=data.source_type,
        source=data.source,
        schema=data.schema_,
        profile=data.profile,
        context=tags.get(DATASET_CONTEXT_TAG, ""),
    )


# -- outgoing ------------------------------------------------------------------------


def double(value: float) -> float | str:
    """JSON has no NaN or infinity; protobuf's JSON mapping spells them as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def key_values(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(items.items())]


def experiment_location(experiment: Experiment) -> str:
    return experiment.artifact_location or f"{ARTIFACT_SCHEME}/{experiment.id}"


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": experiment.id,
        "name": experiment.name,
        "artifact_location": experiment_location(experiment),
        "lifecycle_stage": str(experiment.lifecycle_stage),
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
        "tags": key_values(experiment.tags),
    }


def run_artifact_uri(experiment_id: str, run_id: str) -> str:
    return f"{ARTIFACT_SCHEME}/{experiment_id}/{run_id}/artifacts"


def run_info_json(info: RunInfo) -> dict[str, Any]:
    body: dict[str, Any] = {
        "run_id": info.id,
        "run_uuid": info.id,
        "run_name": info.name,
        "experiment_id": info.experiment_id,
        "user_id": info.user,
        "status": str(info.status),
        "start_time": info.start_time,
        "artifact_uri": run_artifact_uri(info.experiment_id, info.id),
        "lifecycle_stage": str(info.lifecycle_stage),
    }
    if info.end_time is not None:
        body["end_time"] = info.end_time
    return body


def metric_json(point: Metric) -> dict[str, Any]:
    return {
        "key": point.key,
        "value": double(point.value),
        "timestamp": point.timestamp,
        "step": point.step,
    }


def run_tags(run: Run) -> dict[str, str]:
    """Stored tags plus the system tags MLflow derives from the run's fields."""
    tags = dict(run.tags)
    tags[RUN_NAME_TAG] = run.info.name
    if run.info.user:
        tags.setdefault(USER_TAG, run.info.user)
    if run.info.parent_id:
        tags.setdefault(PARENT_RUN_TAG, run.info.parent_id)
    return tags


def run_json(run: Run) -> dict[str, Any]:
    return {
        "info": run_info_json(run.info),
        "data": {
            "metrics": [metric_json(point) for _, point in sorted(run.metrics.items())],
            "params": key_values(run.params),
            "tags": key_values(run_tags(run)),
        },
        "inputs": {"dataset_inputs": [dataset_input_json(item) for item in run.inputs]},
    }


def dataset_input_json(item: RunInput) -> dict[str, Any]:
    dataset = {
        "name": item.name,
        "digest": item.digest,
        "source_type": item.source_type,
        "source": item.source,
        "schema": item.schema,
        "profile": item.profile,
    }
    tags = key_values({DATASET_CONTEXT_TAG: item.context} if item.context else {})
    return {"tags": tags, "dataset": dataset}


def page_json(field: str, items: Sequence[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A listing, with ``next_page_token`` only when there is a next page (as MLflow)."""
    body: dict[str, Any] = {field: list(items)}
    if token:
        body["next_page_token"] = token
    return body


# MLflow 3's client adds this to every model search to hide prompts; Noria has none.
_NOT_A_PROMPT = re.compile(
    r"""^\s*tags?\.`?mlflow\.prompt\.is_prompt`?\s*!=\s*'true'\s*$""", re.IGNORECASE
)


def filter_conditions(text: str) -> list[str]:
    """The ``AND``-joined conditions of a registry filter, without MLflow's prompt guard."""
    parts = re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE)
    return [part for part in parts if part and not _NOT_A_PROMPT.fullmatch(part)]


def unquote(text: str) -> str:
    """A single-quoted filter literal's text: ``''`` stands for one quote."""
    return text.replace("''", "'")
