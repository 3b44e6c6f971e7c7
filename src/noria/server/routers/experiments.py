"""Experiments: create, find, list, rename, tag, delete and restore."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from noria.domain.paging import MAX_PAGE_SIZE
from noria.domain.tracking import ViewType
from noria.errors import NotFound
from noria.server.deps import ClientDep
from noria.wire.tracking import (
    CreateExperimentRequest,
    ExperimentBody,
    ExperimentPage,
    SetTagRequest,
    UpdateExperimentRequest,
)

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(body: CreateExperimentRequest, client: ClientDep) -> ExperimentBody:
    """A new experiment; 409 ALREADY_EXISTS when the name is taken, deleted ones included."""
    experiment = client.metadata.experiments.create_experiment(
        body.name, tags=dict(body.tags), artifact_location=body.artifact_location
    )
    return ExperimentBody.from_domain(experiment)


@router.get("")
def list_experiments(
    client: ClientDep,
    view: ViewType = ViewType.ACTIVE_ONLY,
    name_like: Annotated[
        str | None, Query(description="SQL LIKE pattern on the name, e.g. 'credit-%'.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    page_token: str | None = None,
) -> ExperimentPage:
    page = client.metadata.experiments.list_experiments(
        view=view, name_like=name_like, limit=limit, page_token=page_token
    )
    experiments = [ExperimentBody.from_domain(experiment) for experiment in page.items]
    return ExperimentPage(experiments=experiments, next_page_token=page.next_page_token)


@router.get("/by-name/{name:path}")
def get_experiment_by_name(
    name: Annotated[str, Path(description="The name, percent-encoded ('/' as %2F).")],
    client: ClientDep,
) -> ExperimentBody:
    """The experiment with this exact name, or 404."""
    experiment = client.metadata.experiments.find_experiment_by_name(name)
    if experiment is None:
        raise NotFound(
            f"Experiment named {name!r} not found: list experiments with "
            "GET /api/v1/experiments (add view=all to include deleted ones)."
        )
    return ExperimentBody.from_domain(experiment)


@router.get("/{experiment_id}")
def get_experiment(experiment_id: str, client: ClientDep) -> ExperimentBody:
    return ExperimentBody.from_domain(client.metadata.experiments.get_experiment(experiment_id))


@router.patch("/{experiment_id}")
def update_experiment(
    experiment_id: str, body: UpdateExperimentRequest, client: ClientDep
) -> ExperimentBody:
    """Rename, soft-delete (``lifecycle_stage: deleted``) or restore (``active``)."""
    repo = client.metadata.experiments
    experiment = None
    if body.name is not None:
        experiment = repo.rename_experiment(experiment_id, body.name)
    if body.lifecycle_stage is not None:
        experiment = repo.set_experiment_stage(experiment_id, body.lifecycle_stage.value)
    if experiment is None:
        experiment = repo.get_experiment(experiment_id)
    return ExperimentBody.from_domain(experiment)


@router.put("/{experiment_id}/tags/{key:path}", status_code=status.HTTP_204_NO_CONTENT)
def set_experiment_tag(
    experiment_id: str,
    key: Annotated[str, Path(description="The tag key, percent-encoded.")],
    body: SetTagRequest,
    client: ClientDep,
) -> None:
    client.metadata.experiments.set_experiment_tag(experiment_id, key, body.value)
