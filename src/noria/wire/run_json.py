"""Pages of runs to and from JSON without a model per run, metric and input.

Searching and reading runs are the hot read paths: for a page of 100 runs, building
and validating a pydantic model for each run, metric and input took longer than the
database took to find them. These functions write and read exactly what
:class:`~noria.wire.tracking.RunBody` and :class:`~noria.wire.tracking.RunPage` do,
and ``tests/unit/test_wire_tracking.py`` keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired

from pydantic import ConfigDict, StrictInt, TypeAdapter
from typing_extensions import TypedDict

from noria.domain.paging import Page
from noria.domain.tracking import LifecycleStage, Metric, Run, RunInfo, RunStatus
from noria.wire.metrics import MetricValue
from noria.wire.tracking import RunInputBody

# Plain values straight to JSON bytes, NaN and ±inf as strings like every model here.
_PLAIN_JSON: TypeAdapter[Any] = TypeAdapter(Any, config=ConfigDict(ser_json_inf_nan="strings"))


def run_json(run: Run) -> dict[str, Any]:
    """The JSON object of ``RunBody.from_domain(run)``, built straight from the run."""
    info = run.info
    return {
        "info": {
            "id": info.id,
            "experiment_id": info.experiment_id,
            "name": info.name,
            "status": info.status.value,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "lifecycle_stage": info.lifecycle_stage.value,
            "user": info.user,
            "parent_id": info.parent_id,
        },
        "params": run.params,
        "metrics": [
            {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}
            for m in run.metrics.values()
        ],
        "tags": run.tags,
        "inputs": [
            {
                "name": item.name,
                "digest": item.digest,
                "source_type": item.source_type,
                "source": item.source,
                "dataset_schema": item.schema,
                "profile": item.profile,
                "context": item.context,
            }
            for item in run.inputs
        ],
    }


def run_body_json(run: Run) -> bytes:
    """``RunBody.from_domain(run).model_dump_json()``, faster."""
    return _PLAIN_JSON.dump_json(run_json(run))


def run_page_json(runs: Sequence[Run], next_page_token: str | None) -> bytes:
    """``RunPage`` of ``runs`` as JSON, faster than through the models."""
    page = {"runs": [run_json(run) for run in runs], "next_page_token": next_page_token}
    return _PLAIN_JSON.dump_json(page)


# Reading a page back: RunPage's shapes, validated into dicts instead of models.
_FORBID = ConfigDict(extra="forbid")


class _MetricDict(TypedDict):
    __pydantic_config__ = _FORBID  # type: ignore[misc]
    key: str
    value: MetricValue
    timestamp: StrictInt
    step: NotRequired[StrictInt]


class _InfoDict(TypedDict):
    __pydantic_config__ = _FORBID  # type: ignore[misc]
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    user: str
    parent_id: NotRequired[str | None]


class _RunDict(TypedDict):
    __pydantic_config__ = _FORBID  # type: ignore[misc]
    info: _InfoDict
    params: NotRequired[dict[str, str]]
    metrics: NotRequired[list[_MetricDict]]
    tags: NotRequired[dict[str, str]]
    inputs: NotRequired[list[RunInputBody]]


class _PageDict(TypedDict):
    __pydantic_config__ = _FORBID  # type: ignore[misc]
    runs: list[_RunDict]
    next_page_token: NotRequired[str | None]


_PAGE: TypeAdapter[_PageDict] = TypeAdapter(_PageDict)


def read_run_page(data: bytes | str) -> Page[Run]:
    """``RunPage.model_validate_json(data).to_domain()``, faster."""
    page = _PAGE.validate_json(data)
    return Page([_run(item) for item in page["runs"]], page.get("next_page_token"))


def _run(item: _RunDict) -> Run:
    info = item["info"]
    metrics = item.get("metrics", [])
    return Run(
        info=RunInfo(
            info["id"],
            info["experiment_id"],
            info["name"],
            info["status"],
            info["start_time"],
            info["end_time"],
            info["lifecycle_stage"],
            info["user"],
            info.get("parent_id"),
        ),
        params=item.get("params", {}),
        metrics={
            m["key"]: Metric(m["key"], m["value"], m["timestamp"], m.get("step", 0))
            for m in metrics
        },
        tags=item.get("tags", {}),
        inputs=[body.to_domain() for body in item.get("inputs", [])],
    )
