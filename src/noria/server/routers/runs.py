"""Runs: create, read, update, search, and the batch write of metrics, params and tags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from noria.domain.tracking import MetricBatch
from noria.errors import InvalidArgument, NotFound
from noria.server.deps import ClientDep
from noria.wire.metrics import LogBatchRequest, MetricColumns, MetricHistoryBody
from noria.wire.packed_metrics import PACKED_METRICS, unpack
from noria.wire.run_json import run_body_json, run_page_json
from noria.wire.tracking import (
    CreateRunRequest,
    EndRunRequest,
    LogInputsRequest,
    RunArtifactBody,
    RunArtifactList,
    RunBody,
    RunInfoBody,
    RunPage,
    RunSearchBody,
    RunWriteRequest,
    UpdateRunRequest,
)

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])


def _json(content: bytes, status_code: int = status.HTTP_200_OK) -> Response:
    """An answer already written as JSON. The run routes return these (declaring their
    model for the docs) because FastAPI would otherwise validate the returned model
    again, in a second trip through the thread pool for a sync route."""
    return Response(content, status_code=status_code, media_type="application/json")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RunBody)
def create_run(body: CreateRunRequest, client: ClientDep) -> Response:
    run = client.metadata.runs.create_run(
        body.experiment_id,
        name=body.name,
        user=body.user,
        start_time=body.start_time,
        tags=body.domain_tags(),
        parent_id=body.parent_id,
    )
    return _json(run_body_json(run), status.HTTP_201_CREATED)


@router.post("/search", response_model=RunPage)
def search_runs(body: RunSearchBody, client: ClientDep) -> Response:
    """Runs of some experiments matching a filter, e.g. ``metrics.loss < 0.1``, in order."""
    page = client.metadata.runs.search_runs(body.to_domain())
    return _json(run_page_json(page.items, page.next_page_token))


@router.get("/{run_id}", response_model=RunBody)
def get_run(run_id: str, client: ClientDep) -> Response:
    return _json(run_body_json(client.metadata.runs.get_run(run_id)))


@router.patch("/{run_id}")
def update_run(run_id: str, body: UpdateRunRequest, client: ClientDep) -> RunInfoBody:
    """Set status, end time or name; soft-delete (``lifecycle_stage: deleted``) or restore."""
    repo = client.metadata.runs
    info = None
    if body.status is not None or body.end_time is not None or body.name is not None:
        info = repo.update_run(run_id, status=body.status, end_time=body.end_time, name=body.name)
    if body.lifecycle_stage is not None:
        info = repo.set_run_stage(run_id, body.lifecycle_stage.value)
    if info is None:
        info = repo.get_run(run_id).info
    return RunInfoBody.from_domain(info)


# The bodies that carry metric points (as JSON columns, or packed).
C = TypeVar("C", LogBatchRequest, EndRunRequest, RunWriteRequest)


def _in_body(exc: ValidationError) -> RequestValidationError:
    """Pydantic's errors as FastAPI reports a body's, located under ``body``."""
    errors: list[Any] = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
    return RequestValidationError(errors)


def _points_body(model: type[C]) -> Callable[[Request], Awaitable[tuple[C, MetricBatch]]]:
    """A dependency reading a body with metric points: JSON, parsed by pydantic in one
    pass (not through ``json.loads`` and validation of the result), or a packed body
    (``noria.wire.packed_metrics``), whose points skip JSON altogether. This is the hot
    path of remote logging (thousands of points per request)."""

    async def read(request: Request) -> tuple[C, MetricBatch]:
        raw = await request.body()
        packed = request.headers.get("content-type", "").split(";")[0].strip() == PACKED_METRICS
        header, batch = unpack(raw) if packed else (raw, None)
        try:
            body = model.model_validate_json(header)
        except ValidationError as exc:
            raise _in_body(exc) from None
        if batch is None:
            return body, _metric_batch(body.metrics)
        if body.metrics.keys:
            raise InvalidArgument(
                "A packed body carries its metric points in the packed columns; its JSON "
                "header must leave out 'metrics'."
            )
        return body, batch

    return read


def _metric_batch(columns: MetricColumns) -> MetricBatch:
    """The points as the columns they came in: no Metric object per point on the way."""
    return MetricBatch(columns.keys, columns.values, columns.timestamps, columns.steps)


def _inline_schema(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` with its ``$defs`` references replaced by the definitions themselves."""
    if isinstance(node, list):
        return [_inline_schema(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline_schema(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
    return {key: _inline_schema(value, definitions) for key, value in node.items()}


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body FastAPI does not parse itself (see ``_points_body``)."""
    schema = model.model_json_schema()
    schema = _inline_schema(schema, schema.pop("$defs", {}))
    packed = {"schema": {"type": "string", "format": "binary"}}
    content = {"application/json": {"schema": schema}, PACKED_METRICS: packed}
    return {"requestBody": {"required": True, "content": content}}


@router.post(
    "/{run_id}/batch",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra=_body_doc(LogBatchRequest),
)
def log_batch(
    run_id: str,
    body: Annotated[tuple[LogBatchRequest, MetricBatch], Depends(_points_body(LogBatchRequest))],
    client: ClientDep,
) -> None:
    """Metrics (as columns, JSON or packed), params and tags, stored all or nothing.

    Setting a param to a value other than the one it has answers 409 CONFLICT and
    stores nothing of the batch.
    """
    request, points = body
    client.metadata.runs.log_batch(
        run_id, metrics=points, params=request.domain_params(), tags=request.domain_tags()
    )


@router.post("/{run_id}/end", response_model=RunInfoBody, openapi_extra=_body_doc(EndRunRequest))
def end_run(
    run_id: str,
    body: Annotated[tuple[EndRunRequest, MetricBatch], Depends(_points_body(EndRunRequest))],
    client: ClientDep,
) -> Response:
    """The run's last metric points (as columns, JSON or packed) and its final status,
    stored all or nothing."""
    request, points = body
    info = client.metadata.runs.end_run(
        run_id, status=request.status, end_time=request.end_time, metrics=points
    )
    return _json(RunInfoBody.from_domain(info).model_dump_json().encode())


@router.post(
    "/{run_id}/write", response_model=RunInfoBody, openapi_extra=_body_doc(RunWriteRequest)
)
def write_run(
    run_id: str,
    body: Annotated[tuple[RunWriteRequest, MetricBatch], Depends(_points_body(RunWriteRequest))],
    client: ClientDep,
) -> Response:
    """Everything the SDK gathered for a run, all or nothing: its creation (with this
    id), params, tags, metric points (JSON or packed), artifact entries and its end.
    A param set to another value answers 409 CONFLICT, an id in use 409 ALREADY_EXISTS."""
    request, points = body
    info = client.metadata.runs.write_run(request.to_domain(run_id, points))
    return _json(RunInfoBody.from_domain(info).model_dump_json().encode())


@router.delete("/{run_id}/tags/{key:path}", status_code=status.HTTP_204_NO_CONTENT)
def delete_run_tag(
    run_id: str,
    key: Annotated[str, Path(description="The tag key, percent-encoded.")],
    client: ClientDep,
) -> None:
    client.metadata.runs.delete_tag(run_id, key)


@router.get("/{run_id}/metrics/{key:path}/history")
def metric_history(
    run_id: str,
    key: Annotated[str, Path(description="The metric key, percent-encoded.")],
    client: ClientDep,
    max_points: int | None = None,
) -> MetricHistoryBody:
    """Every point in (step, timestamp) order, or at most ``max_points`` keeping the
    first, last, min and max."""
    history = client.metadata.runs.metric_history(run_id, key, max_points=max_points)
    return MetricHistoryBody.from_domain(history)


@router.post("/{run_id}/inputs", status_code=status.HTTP_204_NO_CONTENT)
def log_inputs(run_id: str, body: LogInputsRequest, client: ClientDep) -> None:
    """Datasets the run read; one already logged (same name, digest, context) is kept once."""
    client.metadata.run_data.log_inputs(run_id, [item.to_domain() for item in body.inputs])


@router.post("/{run_id}/artifacts", status_code=status.HTTP_204_NO_CONTENT)
def record_artifacts(run_id: str, body: RunArtifactList, client: ClientDep) -> None:
    """Entries for files logged to the run; an entry at the same path is replaced."""
    artifacts = [item.to_domain() for item in body.artifacts]
    client.metadata.run_data.record_artifacts(run_id, artifacts)


@router.get("/{run_id}/artifacts")
def list_artifacts(run_id: str, client: ClientDep, prefix: str = "") -> RunArtifactList:
    """Files under ``prefix`` (a folder inside the run), sorted by path."""
    artifacts = client.metadata.run_data.list_artifacts(run_id, prefix)
    return RunArtifactList(artifacts=[RunArtifactBody.from_domain(item) for item in artifacts])


@router.get("/{run_id}/artifacts/{path:path}/entry")
def find_artifact(
    run_id: str,
    path: Annotated[str, Path(description="The file's path inside the run, percent-encoded.")],
    client: ClientDep,
) -> RunArtifactBody:
    """The entry of one file, or 404 when the run has none at that path."""
    artifact = client.metadata.run_data.find_artifact(run_id, path)
    if artifact is None:
        raise NotFound(
            f"Run {run_id!r} has no artifact at {path!r}: list its files with "
            f"GET /api/v1/runs/{run_id}/artifacts."
        )
    return RunArtifactBody.from_domain(artifact)
