"""MLflow's run endpoints (``/api/2.0/mlflow/runs/*``, metric history) over Noria's repos."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from noria.domain.tracking import (
    DEFAULT_EXPERIMENT_ID,
    LifecycleStage,
    Param,
    RunSearch,
    RunTag,
)
from noria.errors import InvalidArgument
from noria.server.deps import ClientDep
from noria.server.mlflow import logged_models, messages, protocol

router = APIRouter(tags=["mlflow"])


@router.post("/runs/create")
def create_run(body: messages.CreateRun, client: ClientDep) -> dict[str, Any]:
    tags = {tag.key: tag.value for tag in body.tags}
    tagged_name = tags.pop(protocol.RUN_NAME_TAG, "")
    if body.run_name and tagged_name and body.run_name != tagged_name:
        raise InvalidArgument(
            f"run_name {body.run_name!r} and tag {protocol.RUN_NAME_TAG} {tagged_name!r} "
            "disagree; give the name once."
        )
    run = client.metadata.runs.create_run(
        body.experiment_id or DEFAULT_EXPERIMENT_ID,
        name=body.run_name or tagged_name or protocol.new_run_name(),
        user=body.user_id or tags.get(protocol.USER_TAG) or client.settings.user,
        start_time=body.start_time if body.start_time is not None else protocol.now_ms(),
        tags=[RunTag(key, value) for key, value in tags.items()],
        parent_id=tags.get(protocol.PARENT_RUN_TAG) or None,
    )
    return {"run": protocol.run_json(run)}


@router.get("/runs/get")
def get_run(client: ClientDep, run_id: str = "", run_uuid: str = "") -> dict[str, Any]:
    run = client.metadata.runs.get_run(messages.RunRef(run_id=run_id, run_uuid=run_uuid).id)
    return {"run": protocol.run_json(run)}


@router.post("/runs/update")
def update_run(body: messages.UpdateRun, client: ClientDep) -> dict[str, Any]:
    info = client.metadata.runs.update_run(
        body.id,
        status=protocol.run_status(body.status) if body.status not in (None, "") else None,
        end_time=body.end_time,
        name=body.run_name or None,
    )
    return {"run_info": protocol.run_info_json(info)}


@router.post("/runs/delete")
def delete_run(body: messages.RunRef, client: ClientDep) -> dict[str, Any]:
    client.metadata.runs.set_run_stage(body.id, LifecycleStage.DELETED)
    return {}


@router.post("/runs/restore")
def restore_run(body: messages.RunRef, client: ClientDep) -> dict[str, Any]:
    client.metadata.runs.set_run_stage(body.id, LifecycleStage.ACTIVE)
    return {}


@router.post("/runs/search")
def search_runs(body: messages.SearchRuns, client: ClientDep) -> dict[str, Any]:
    """Filter and order_by go to Noria's search DSL unchanged: it reads MLflow's syntax."""
    search = RunSearch(
        experiment_ids=tuple(body.experiment_ids),
        filter=protocol.search_text(body.filter),
        order_by=tuple(protocol.search_text(term) for term in body.order_by),
        view=protocol.view_type(body.run_view_type),
        limit=protocol.page_size(body.max_results),
        page_token=body.page_token or None,
    )
    page = client.metadata.runs.search_runs(search)
    runs = [protocol.run_json(run) for run in page.items]
    return protocol.page_json("runs", runs, page.next_page_token)


@router.post("/runs/log-metric")
def log_metric(body: messages.LogMetric, client: ClientDep) -> dict[str, Any]:
    client.metadata.runs.log_batch(body.id, metrics=[protocol.metric(body)])
    return {}


@router.post("/runs/log-parameter")
def log_param(body: messages.LogParam, client: ClientDep) -> dict[str, Any]:
    client.metadata.runs.log_batch(body.id, params=[Param(body.key, body.value)])
    return {}


@router.post("/runs/set-tag")
def set_tag(body: messages.SetTag, client: ClientDep) -> dict[str, Any]:
    if body.key == protocol.RUN_NAME_TAG:
        client.metadata.runs.update_run(body.id, name=body.value)
    else:
        client.metadata.runs.log_batch(body.id, tags=[RunTag(body.key, body.value)])
    return {}


@router.post("/runs/delete-tag")
def delete_tag(body: messages.DeleteTag, client: ClientDep) -> dict[str, Any]:
    if body.key == protocol.RUN_NAME_TAG:
        raise InvalidArgument(
            f"Tag {protocol.RUN_NAME_TAG} holds the run's name and cannot be deleted; "
            "set it to rename the run."
        )
    client.metadata.runs.delete_tag(body.id, body.key)
    return {}


@router.post("/runs/log-batch")
def log_batch(body: messages.LogBatch, client: ClientDep) -> dict[str, Any]:
    name, tags = protocol.split_run_name(body.tags)
    client.metadata.runs.log_batch(
        body.id,
        metrics=[protocol.metric(point) for point in body.metrics],
        params=protocol.params(body.params),
        tags=tags,
    )
    if name is not None:
        client.metadata.runs.update_run(body.id, name=name)
    return {}


@router.post("/runs/log-inputs")
def log_inputs(body: messages.LogInputs, client: ClientDep) -> dict[str, Any]:
    """Datasets become run inputs; model inputs wait for the model registry."""
    inputs = [protocol.dataset_input(item) for item in body.datasets]
    if inputs:
        client.metadata.run_data.log_inputs(body.id, inputs)
    else:
        client.metadata.runs.get_run(body.id)  # still answer 404 for an unknown run
    return {}


@router.post("/runs/outputs")
def log_outputs(body: messages.LogOutputs, client: ClientDep) -> dict[str, Any]:
    """Checked, not stored: a logged model already names its source run."""
    logged_models.check_outputs(client, body)
    return {}


@router.get("/metrics/get-history")
def get_metric_history(
    *,
    client: ClientDep,
    metric_key: Annotated[str, Query(min_length=1)],
    run_id: str = "",
    run_uuid: str = "",
    max_results: Annotated[int | None, Query(ge=1)] = None,
    page_token: str = "",
) -> dict[str, Any]:
    """Every point in (step, timestamp) order; the page token is an offset."""
    run = messages.RunRef(run_id=run_id, run_uuid=run_uuid).id
    points = client.metadata.runs.metric_history(run, metric_key).points()
    start = _offset(page_token)
    end = len(points) if max_results is None else start + max_results
    body = protocol.page_json(
        "metrics",
        [protocol.metric_json(point) for point in points[start:end]],
        str(end) if end < len(points) else None,
    )
    return body


def _offset(page_token: str) -> int:
    if not page_token:
        return 0
    if not page_token.isdigit():
        raise InvalidArgument(
            f"Invalid page_token {page_token!r}: pass back the next_page_token of the "
            "previous page."
        )
    return int(page_token)
