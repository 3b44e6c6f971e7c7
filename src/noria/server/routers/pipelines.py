"""Pipeline records: runs with their steps, step updates, and the step cache.

Pipelines run in the client (or on its executor); these routes only keep the records,
so a pipeline run against a remote server writes what a local run writes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from noria.domain.paging import MAX_PAGE_SIZE
from noria.domain.pipelines import PipelineStatus
from noria.errors import InvalidArgument, NotFound
from noria.server.deps import ClientDep
from noria.wire.pipelines import (
    CacheClearResponse,
    CacheEntryBody,
    CreatePipelineRunRequest,
    FinishRunRequest,
    PipelineRunBody,
    PipelineRunPage,
    StepList,
    StepRunBody,
)

router = APIRouter(prefix="/api/v1/pipelines", tags=["pipelines"])
RunId = Annotated[str, Path(description="The pipeline run id (32 hex characters).")]
CacheKey = Annotated[str, Path(description="The step cache key (64 hex characters).")]


@router.post("/runs", status_code=status.HTTP_201_CREATED)
def create_run(body: CreatePipelineRunRequest, client: ClientDep) -> PipelineRunBody:
    """Store a new run and all its steps."""
    run = body.run.to_domain()
    client.metadata.pipelines.create_run(run, [step.to_domain() for step in body.steps])
    return PipelineRunBody.from_domain(run)


@router.get("/runs")
def list_runs(
    client: ClientDep,
    pipeline: str | None = None,
    status: PipelineStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    page_token: str | None = None,
) -> PipelineRunPage:
    """Newest first."""
    page = client.metadata.pipelines.list_runs(
        pipeline=pipeline, status=status, limit=limit, page_token=page_token
    )
    return PipelineRunPage(
        runs=[PipelineRunBody.from_domain(run) for run in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/runs/{run_id}")
def get_run(run_id: RunId, client: ClientDep) -> PipelineRunBody:
    return PipelineRunBody.from_domain(client.metadata.pipelines.get_run(run_id))


@router.post("/runs/{run_id}/finish")
def finish_run(run_id: RunId, body: FinishRunRequest, client: ClientDep) -> PipelineRunBody:
    run = client.metadata.pipelines.finish_run(
        run_id, body.status, ended_at=body.ended_at, error=body.error
    )
    return PipelineRunBody.from_domain(run)


@router.get("/runs/{run_id}/steps")
def list_steps(run_id: RunId, client: ClientDep) -> StepList:
    """In the order the pipeline declared them."""
    steps = client.metadata.pipelines.list_steps(run_id)
    return StepList(steps=[StepRunBody.from_domain(step) for step in steps])


@router.put("/runs/{run_id}/steps/{step_id}", status_code=status.HTTP_204_NO_CONTENT)
def save_step(run_id: RunId, step_id: str, body: StepRunBody, client: ClientDep) -> None:
    if (body.pipeline_run_id, body.id) != (run_id, step_id):
        raise InvalidArgument(
            f"The body describes step run {body.id} of pipeline run {body.pipeline_run_id}, "
            f"but the path names {step_id} of {run_id}."
        )
    client.metadata.pipelines.save_step(body.to_domain())


@router.get("/cache/{key}")
def find_cached(key: CacheKey, client: ClientDep) -> CacheEntryBody:
    """The cached result under ``key``, or 404."""
    entry = client.metadata.pipelines.find_cached(key)
    if entry is None:
        raise NotFound(f"No cached step result under key {key}.")
    return CacheEntryBody.from_domain(entry)


@router.put("/cache/{key}", status_code=status.HTTP_204_NO_CONTENT)
def save_cached(key: CacheKey, body: CacheEntryBody, client: ClientDep) -> None:
    if body.key != key:
        raise InvalidArgument(f"The body's cache key {body.key} differs from the path's {key}.")
    client.metadata.pipelines.save_cached(body.to_domain())


@router.delete("/cache")
def clear_cache(
    client: ClientDep, pipeline: str | None = None, step: str | None = None
) -> CacheClearResponse:
    """Forget cached results: all, or one pipeline's, or one step's."""
    cleared = client.metadata.pipelines.clear_cache(pipeline=pipeline, step=step)
    return CacheClearResponse(cleared=cleared)
