"""Deployment records: create, read, list (optionally by model), update, delete.

These routes are the deployments' storage; the audit events and lineage edges around each
change are written by the client's deployment service, as for the registry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from noria.domain.paging import MAX_PAGE_SIZE
from noria.errors import InvalidArgument
from noria.server.deps import ClientDep
from noria.wire.deployments import DeploymentBody, DeploymentPage

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])
Name = Annotated[str, Path(description="The deployment's name ('.' may be sent as %2E).")]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_deployment(body: DeploymentBody, client: ClientDep) -> DeploymentBody:
    """409 ALREADY_EXISTS when the name is taken; 400 when the routes break a rule."""
    created = client.metadata.deployments.create(body.to_domain())
    return DeploymentBody.from_domain(created)


@router.get("")
def list_deployments(
    client: ClientDep,
    model: Annotated[
        str | None, Query(description="Only deployments with a route to this model.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    page_token: str | None = None,
) -> DeploymentPage:
    """By name."""
    page = client.metadata.deployments.list_deployments(
        model=model, limit=limit, page_token=page_token
    )
    return DeploymentPage(
        deployments=[DeploymentBody.from_domain(d) for d in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/{name}")
def get_deployment(name: Name, client: ClientDep) -> DeploymentBody:
    return DeploymentBody.from_domain(client.metadata.deployments.get(name))


@router.put("/{name}")
def update_deployment(name: Name, body: DeploymentBody, client: ClientDep) -> DeploymentBody:
    """409 CONFLICT when ``revision`` is not the stored one (someone changed it meanwhile)."""
    if body.name != name:
        raise InvalidArgument(
            f"The body describes deployment {body.name!r}, but the path names {name!r}; "
            "a deployment cannot be renamed."
        )
    return DeploymentBody.from_domain(client.metadata.deployments.update(body.to_domain()))


@router.delete("/{name}")
def delete_deployment(name: Name, client: ClientDep) -> DeploymentBody:
    """Returns what was stored."""
    return DeploymentBody.from_domain(client.metadata.deployments.delete(name))
