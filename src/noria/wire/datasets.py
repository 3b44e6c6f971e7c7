"""Dataset catalogue shapes: datasets, versions, schema revisions and their pages."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import Field

from noria.domain.datasets import (
    ColumnInfo,
    Dataset,
    DatasetVersion,
    NewDatasetVersion,
    SchemaRevision,
    SourceType,
)
from noria.wire.common import WireModel

_DIGEST = r"^[0-9a-f]{64}$"


class ColumnBody(WireModel):
    name: str
    type: str


def _domain_fields(body: WireModel) -> dict[str, Any]:
    """The body's fields as the domain dataclass takes them (columns as ``ColumnInfo``)."""
    fields = dict(body)
    fields["columns"] = tuple(ColumnInfo(column.name, column.type) for column in fields["columns"])
    return fields


class NewVersionRequest(WireModel):
    name: str
    digest: str = Field(pattern=_DIGEST)
    data_digest: str = Field(pattern=_DIGEST)
    profile_digest: str = Field(pattern=_DIGEST)
    schema_digest: str = Field(pattern=_DIGEST)
    row_count: int = Field(ge=0)
    size_bytes: int = Field(ge=0)
    columns: list[ColumnBody]
    source_type: SourceType
    source: str
    created_by: str
    run_id: str | None = None
    description: str = ""

    @classmethod
    def from_domain(cls, new: NewDatasetVersion) -> NewVersionRequest:
        return cls.model_validate(asdict(new))

    def to_domain(self) -> NewDatasetVersion:
        return NewDatasetVersion(**_domain_fields(self))


class DatasetVersionBody(WireModel):
    name: str
    version: int
    uri: str
    digest: str
    data_digest: str
    profile_digest: str
    schema_digest: str
    schema_revision: int
    row_count: int
    size_bytes: int
    columns: list[ColumnBody]
    source_type: SourceType
    source: str
    created_by: str
    created_at: int
    run_id: str | None = None
    description: str = ""

    @classmethod
    def from_domain(cls, version: DatasetVersion) -> DatasetVersionBody:
        return cls.model_validate({**asdict(version), "uri": version.uri})

    def to_domain(self) -> DatasetVersion:
        fields = _domain_fields(self)
        del fields["uri"]
        return DatasetVersion(**fields)


class AddVersionResponse(WireModel):
    version: DatasetVersionBody
    created: bool


class DatasetVersionPage(WireModel):
    versions: list[DatasetVersionBody]
    next_page_token: str | None = None


class DatasetBody(WireModel):
    name: str
    description: str
    created_at: int
    updated_at: int
    version_count: int
    latest_version: int | None = None

    @classmethod
    def from_domain(cls, dataset: Dataset) -> DatasetBody:
        return cls.model_validate(asdict(dataset))

    def to_domain(self) -> Dataset:
        return Dataset(**self.model_dump())


class DatasetPage(WireModel):
    datasets: list[DatasetBody]
    next_page_token: str | None = None


class AddSchemaRevisionRequest(WireModel):
    digest: str = Field(pattern=_DIGEST)
    created_by: str
    note: str = ""


class SchemaRevisionBody(WireModel):
    name: str
    version: int
    revision: int
    digest: str
    created_by: str
    created_at: int
    note: str = ""

    @classmethod
    def from_domain(cls, revision: SchemaRevision) -> SchemaRevisionBody:
        return cls.model_validate(asdict(revision))

    def to_domain(self) -> SchemaRevision:
        return SchemaRevision(**self.model_dump())


class SchemaRevisionList(WireModel):
    revisions: list[SchemaRevisionBody]
