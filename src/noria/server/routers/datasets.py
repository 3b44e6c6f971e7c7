"""The dataset catalogue: versions (idempotent by content), listing, schema revisions.

Rows, profiles and schemas themselves are artifacts (``/api/v1/artifacts``); these routes
hold what points at them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from noria.domain.paging import MAX_PAGE_SIZE
from noria.errors import NotFound
from noria.server.deps import ClientDep
from noria.wire.datasets import (
    AddSchemaRevisionRequest,
    AddVersionResponse,
    DatasetBody,
    DatasetPage,
    DatasetVersionBody,
    DatasetVersionPage,
    NewVersionRequest,
    SchemaRevisionBody,
    SchemaRevisionList,
)

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])
NameParam = Annotated[str, Path(description="The dataset name ('.' may be sent as %2E).")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@router.post("/versions", status_code=status.HTTP_201_CREATED)
def add_version(
    body: NewVersionRequest, client: ClientDep, response: Response
) -> AddVersionResponse:
    """Store a version; the same content under the same name answers 200 with the existing one."""
    version, created = client.metadata.datasets.add_version(body.to_domain())
    if not created:
        response.status_code = status.HTTP_200_OK
    return AddVersionResponse(version=DatasetVersionBody.from_domain(version), created=created)


@router.get("")
def list_datasets(
    client: ClientDep,
    name_like: Annotated[
        str | None, Query(description="SQL LIKE pattern on the name, e.g. 'credit-%'.")
    ] = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> DatasetPage:
    page = client.metadata.datasets.list_datasets(
        name_like=name_like, limit=limit, page_token=page_token
    )
    return DatasetPage(
        datasets=[DatasetBody.from_domain(dataset) for dataset in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/{name}/versions")
def list_versions(
    name: NameParam, client: ClientDep, limit: Limit = 100, page_token: str | None = None
) -> DatasetVersionPage:
    """Newest first."""
    page = client.metadata.datasets.list_versions(name, limit=limit, page_token=page_token)
    return DatasetVersionPage(
        versions=[DatasetVersionBody.from_domain(version) for version in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/{name}/versions/latest")
def get_latest_version(name: NameParam, client: ClientDep) -> DatasetVersionBody:
    return DatasetVersionBody.from_domain(client.metadata.datasets.get_version(name))


@router.get("/{name}/versions/by-digest/{digest}")
def find_version(name: NameParam, digest: str, client: ClientDep) -> DatasetVersionBody:
    """The version holding exactly this content, or 404."""
    version = client.metadata.datasets.find_version(name, digest)
    if version is None:
        raise NotFound(f"Dataset {name!r} has no version with content digest {digest!r}.")
    return DatasetVersionBody.from_domain(version)


@router.get("/{name}/versions/{version}")
def get_version(
    name: NameParam, version: Annotated[int, Path(ge=1)], client: ClientDep
) -> DatasetVersionBody:
    return DatasetVersionBody.from_domain(client.metadata.datasets.get_version(name, version))


@router.post("/{name}/versions/{version}/schemas", status_code=status.HTTP_201_CREATED)
def add_schema_revision(
    name: NameParam,
    version: Annotated[int, Path(ge=1)],
    body: AddSchemaRevisionRequest,
    client: ClientDep,
) -> SchemaRevisionBody:
    """Make an edited schema (already stored as an artifact) the version's current one."""
    revision = client.metadata.datasets.add_schema_revision(
        name, version, digest=body.digest, created_by=body.created_by, note=body.note
    )
    return SchemaRevisionBody.from_domain(revision)


@router.get("/{name}/versions/{version}/schemas")
def list_schema_revisions(
    name: NameParam, version: Annotated[int, Path(ge=1)], client: ClientDep
) -> SchemaRevisionList:
    """Oldest first; the last is current."""
    revisions = client.metadata.datasets.list_schema_revisions(name, version)
    return SchemaRevisionList(
        revisions=[SchemaRevisionBody.from_domain(revision) for revision in revisions]
    )
