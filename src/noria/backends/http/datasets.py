"""The dataset catalogue over REST (``/api/v1/datasets``)."""

from __future__ import annotations

from noria.backends.http.paging import page_params
from noria.backends.http.tracking import segment
from noria.backends.http.transport import HttpTransport
from noria.domain.datasets import Dataset, DatasetVersion, NewDatasetVersion, SchemaRevision
from noria.domain.paging import Page
from noria.errors import NotFound
from noria.wire.datasets import (
    AddSchemaRevisionRequest,
    AddVersionResponse,
    DatasetPage,
    DatasetVersionBody,
    DatasetVersionPage,
    NewVersionRequest,
    SchemaRevisionBody,
    SchemaRevisionList,
)

DATASETS = "/api/v1/datasets"


def _versions_path(name: str) -> str:
    return f"{DATASETS}/{segment(name)}/versions"


class HttpDatasetRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def add_version(self, new: NewDatasetVersion) -> tuple[DatasetVersion, bool]:
        body = NewVersionRequest.from_domain(new).model_dump(mode="json")
        answer = AddVersionResponse.model_validate(
            self._http.json("POST", f"{DATASETS}/versions", json=body)
        )
        return answer.version.to_domain(), answer.created

    def get_version(self, name: str, version: int | None = None) -> DatasetVersion:
        which = "latest" if version is None else str(version)
        answer = self._http.json("GET", f"{_versions_path(name)}/{which}")
        return DatasetVersionBody.model_validate(answer).to_domain()

    def find_version(self, name: str, digest: str) -> DatasetVersion | None:
        try:
            answer = self._http.json("GET", f"{_versions_path(name)}/by-digest/{segment(digest)}")
        except NotFound:
            return None
        return DatasetVersionBody.model_validate(answer).to_domain()

    def list_datasets(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Dataset]:
        params = page_params(limit, page_token)
        if name_like is not None:
            params["name_like"] = name_like
        page = DatasetPage.model_validate(self._http.json("GET", DATASETS, params=params))
        return Page([body.to_domain() for body in page.datasets], page.next_page_token)

    def list_versions(
        self, name: str, *, limit: int = 100, page_token: str | None = None
    ) -> Page[DatasetVersion]:
        params = page_params(limit, page_token)
        page = DatasetVersionPage.model_validate(
            self._http.json("GET", _versions_path(name), params=params)
        )
        return Page([body.to_domain() for body in page.versions], page.next_page_token)

    def add_schema_revision(
        self, name: str, version: int, *, digest: str, created_by: str, note: str = ""
    ) -> SchemaRevision:
        body = AddSchemaRevisionRequest(digest=digest, created_by=created_by, note=note)
        answer = self._http.json(
            "POST", f"{_versions_path(name)}/{version}/schemas", json=body.model_dump()
        )
        return SchemaRevisionBody.model_validate(answer).to_domain()

    def list_schema_revisions(self, name: str, version: int) -> list[SchemaRevision]:
        answer = self._http.json("GET", f"{_versions_path(name)}/{version}/schemas")
        return [body.to_domain() for body in SchemaRevisionList.model_validate(answer).revisions]
