"""MLflow 3 logged models through Noria's own API, so a remote store is the same store.

MLflow's client reaches them through ``/api/2.0/mlflow/logged-models``; these routes
carry the port's calls one for one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from noria.errors import NotFound
from noria.server.deps import ClientDep
from noria.wire.logged_models import (
    CreateLoggedModelRequest,
    LoggedModelBody,
    LoggedModelPage,
    SearchLoggedModelsRequest,
    UpdateLoggedModelRequest,
)
from noria.wire.tracking import RunArtifactBody, RunArtifactList

router = APIRouter(prefix="/api/v1/logged-models", tags=["logged models"])
FilePath = Annotated[str, Path(description="The file's path inside the model, percent-encoded.")]


@router.post("", status_code=status.HTTP_201_CREATED)
def create(body: CreateLoggedModelRequest, client: ClientDep) -> LoggedModelBody:
    return LoggedModelBody.from_domain(client.metadata.logged_models.create(body.to_domain()))


@router.post("/search")
def search(body: SearchLoggedModelsRequest, client: ClientDep) -> LoggedModelPage:
    page = client.metadata.logged_models.search(
        body.query(), limit=body.limit, page_token=body.page_token
    )
    return LoggedModelPage.from_domain(page)


@router.get("/{model_id}")
def get(model_id: str, client: ClientDep, allow_deleted: bool = False) -> LoggedModelBody:
    found = client.metadata.logged_models.get(model_id, allow_deleted=allow_deleted)
    return LoggedModelBody.from_domain(found)


@router.patch("/{model_id}")
def update(model_id: str, body: UpdateLoggedModelRequest, client: ClientDep) -> LoggedModelBody:
    updated = client.metadata.logged_models.update(
        model_id,
        status=body.status,
        status_message=body.status_message,
        set_tags=body.set_tags,
        delete_tags=body.delete_tags,
        params=body.params,
    )
    return LoggedModelBody.from_domain(updated)


@router.delete("/{model_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(model_id: str, client: ClientDep) -> None:
    client.metadata.logged_models.delete(model_id)


@router.post("/{model_id}/files", status_code=status.HTTP_204_NO_CONTENT)
def record_files(model_id: str, body: RunArtifactList, client: ClientDep) -> None:
    files = [item.to_domain() for item in body.artifacts]
    client.metadata.logged_models.record_files(model_id, files)


@router.get("/{model_id}/files")
def list_files(model_id: str, client: ClientDep, prefix: str = "") -> RunArtifactList:
    files = client.metadata.logged_models.list_files(model_id, prefix)
    return RunArtifactList(artifacts=[RunArtifactBody.from_domain(item) for item in files])


@router.get("/{model_id}/files/{path:path}/entry")
def find_file(model_id: str, path: FilePath, client: ClientDep) -> RunArtifactBody:
    """The entry of one file, or 404 when the model has none at that path."""
    found = client.metadata.logged_models.find_file(model_id, path)
    if found is None:
        raise NotFound(
            f"Logged model {model_id!r} has no file at {path!r}: list its files with "
            f"GET /api/v1/logged-models/{model_id}/files."
        )
    return RunArtifactBody.from_domain(found)
