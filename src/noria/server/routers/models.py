"""The model registry: registered models, versions, tags, gate verdicts, approvals, aliases.

These routes are the registry's storage; the audit events and lineage edges around each
change are written by the client's registry service, as for every other capability.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from noria.domain.paging import MAX_PAGE_SIZE, Page
from noria.domain.registry import ModelVersion
from noria.server.deps import ClientDep
from noria.wire.registry import (
    AliasMoved,
    ApproveRequest,
    CreateModelRequest,
    CreateVersionRequest,
    GateBody,
    ModelBody,
    ModelPage,
    ModelVersionBody,
    ModelVersionPage,
    PolicyBody,
    SetAliasRequest,
    TagRequest,
    UpdateModelRequest,
    UpdateVersionRequest,
)

router = APIRouter(prefix="/api/v1", tags=["models"])
Name = Annotated[str, Path(description="The registered model's name ('.' may be sent as %2E).")]
Version = Annotated[int, Path(ge=1)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Force = Annotated[bool, Query(description="Also delete what uses it (aliases).")]
NO_CONTENT = status.HTTP_204_NO_CONTENT


def _version(version: ModelVersion, status_code: int = status.HTTP_200_OK) -> Response:
    """Written by pydantic itself, so NaN and ±inf metrics become strings, not errors."""
    body = ModelVersionBody.from_domain(version).model_dump_json()
    return Response(body, status_code=status_code, media_type="application/json")


def _versions(page: Page[ModelVersion]) -> Response:
    versions = [ModelVersionBody.from_domain(v) for v in page.items]
    body = ModelVersionPage(versions=versions, next_page_token=page.next_page_token)
    return Response(body.model_dump_json(), media_type="application/json")


@router.post("/models", status_code=status.HTTP_201_CREATED)
def create_model(body: CreateModelRequest, client: ClientDep) -> ModelBody:
    """409 ALREADY_EXISTS when the name is taken."""
    model = client.metadata.models.create_model(
        body.name, description=body.description, tags=dict(body.tags)
    )
    return ModelBody.from_domain(model)


@router.get("/models")
def search_models(
    client: ClientDep,
    name_like: Annotated[str | None, Query(description="SQL LIKE pattern on the name.")] = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> ModelPage:
    page = client.metadata.models.search_models(
        name_like=name_like, limit=limit, page_token=page_token
    )
    return ModelPage(
        models=[ModelBody.from_domain(m) for m in page.items], next_page_token=page.next_page_token
    )


@router.get("/models/{name}")
def get_model(name: Name, client: ClientDep) -> ModelBody:
    return ModelBody.from_domain(client.metadata.models.get_model(name))


@router.patch("/models/{name}")
def update_model(name: Name, body: UpdateModelRequest, client: ClientDep) -> ModelBody:
    return ModelBody.from_domain(
        client.metadata.models.update_model(name, description=body.description)
    )


@router.delete("/models/{name}")
def delete_model(name: Name, client: ClientDep, force: Force = False) -> ModelBody:
    """409 CONFLICT while aliases point at its versions, unless ``force``."""
    return ModelBody.from_domain(client.metadata.models.delete_model(name, force=force))


@router.put("/models/{name}/tags/{key}", status_code=NO_CONTENT)
def set_model_tag(name: Name, key: str, body: TagRequest, client: ClientDep) -> Response:
    client.metadata.models.set_model_tag(name, key, body.value)
    return Response(status_code=NO_CONTENT)


@router.delete("/models/{name}/tags/{key}", status_code=NO_CONTENT)
def delete_model_tag(name: Name, key: str, client: ClientDep) -> Response:
    client.metadata.models.delete_model_tag(name, key)
    return Response(status_code=NO_CONTENT)


@router.put("/models/{name}/policy")
def set_policy(name: Name, body: PolicyBody, client: ClientDep) -> ModelBody:
    """Which aliases need a passed gate and a second person's approval."""
    return ModelBody.from_domain(client.metadata.models.set_policy(name, body.to_domain()))


@router.post(
    "/models/{name}/versions", status_code=status.HTTP_201_CREATED, response_model=ModelVersionBody
)
def create_version(name: Name, body: CreateVersionRequest, client: ClientDep) -> Response:
    created = client.metadata.model_versions.create_version(body.to_domain(name))
    return _version(created, status.HTTP_201_CREATED)


@router.get("/model-versions", response_model=ModelVersionPage)
def search_versions(
    client: ClientDep,
    name: str | None = None,
    run_id: str | None = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> Response:
    page = client.metadata.model_versions.search_versions(
        name=name, run_id=run_id, limit=limit, page_token=page_token
    )
    return _versions(page)


@router.get("/models/{name}/versions/{version}", response_model=ModelVersionBody)
def get_version(name: Name, version: Version, client: ClientDep) -> Response:
    return _version(client.metadata.model_versions.get_version(name, version))


@router.patch("/models/{name}/versions/{version}", response_model=ModelVersionBody)
def update_version(
    name: Name, version: Version, body: UpdateVersionRequest, client: ClientDep
) -> Response:
    updated = client.metadata.model_versions.update_version(
        name, version, description=body.description
    )
    return _version(updated)


@router.delete("/models/{name}/versions/{version}", response_model=ModelVersionBody)
def delete_version(
    name: Name, version: Version, client: ClientDep, force: Force = False
) -> Response:
    """409 CONFLICT while an alias points at it, unless ``force``."""
    deleted = client.metadata.model_versions.delete_version(name, version, force=force)
    return _version(deleted)


@router.put("/models/{name}/versions/{version}/tags/{key}", status_code=NO_CONTENT)
def set_version_tag(
    name: Name, version: Version, key: str, body: TagRequest, client: ClientDep
) -> Response:
    client.metadata.model_versions.set_version_tag(name, version, key, body.value)
    return Response(status_code=NO_CONTENT)


@router.delete("/models/{name}/versions/{version}/tags/{key}", status_code=NO_CONTENT)
def delete_version_tag(name: Name, version: Version, key: str, client: ClientDep) -> Response:
    client.metadata.model_versions.delete_version_tag(name, version, key)
    return Response(status_code=NO_CONTENT)


@router.put("/models/{name}/versions/{version}/gate", response_model=ModelVersionBody)
def record_gate(name: Name, version: Version, body: GateBody, client: ClientDep) -> Response:
    recorded = client.metadata.model_versions.record_gate(name, version, body.to_domain())
    return _version(recorded)


@router.post("/models/{name}/versions/{version}/approve", response_model=ModelVersionBody)
def approve(name: Name, version: Version, body: ApproveRequest, client: ClientDep) -> Response:
    """409 POLICY_VIOLATION when the approver registered the version."""
    approved = client.metadata.promotion.approve(name, version, approver=body.approver)
    return _version(approved)


@router.put("/models/{name}/aliases/{alias}")
def set_alias(name: Name, alias: str, body: SetAliasRequest, client: ClientDep) -> AliasMoved:
    """409 POLICY_VIOLATION when the model's policy protects the alias and the version does
    not qualify."""
    previous = client.metadata.promotion.set_alias(name, alias, body.version)
    return AliasMoved(previous_version=previous)


@router.delete("/models/{name}/aliases/{alias}")
def delete_alias(name: Name, alias: str, client: ClientDep) -> AliasMoved:
    return AliasMoved(previous_version=client.metadata.promotion.delete_alias(name, alias))


@router.get("/models/{name}/aliases/{alias}", response_model=ModelVersionBody)
def version_by_alias(name: Name, alias: str, client: ClientDep) -> Response:
    """``latest`` is the newest version."""
    return _version(client.metadata.promotion.version_by_alias(name, alias))
