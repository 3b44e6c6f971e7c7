"""Datasets and their immutable, content-addressed versions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from noria.domain.entities import EntityKind, EntityRef
from noria.errors import InvalidArgument

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_DESCRIPTION_LENGTH = 5000
MAX_SOURCE_LENGTH = 2000


class SourceType(StrEnum):
    """Where a version's rows came from."""

    PANDAS = "pandas"
    ARROW = "arrow"
    CSV = "csv"
    PARQUET = "parquet"
    SQL = "sql"


@dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    description: str
    created_at: int  # microseconds since the epoch, UTC
    updated_at: int
    version_count: int = 0
    latest_version: int | None = None


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column as stored: its name and Arrow type (``int64``, ``string``, …)."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class NewDatasetVersion:
    """What ingest hands the repo; the repo numbers it and stamps the time."""

    name: str
    digest: str  # sha256 of the canonical Arrow stream: same rows and types, same digest
    data_digest: str  # the stored Parquet file's artifact digest
    profile_digest: str
    schema_digest: str
    row_count: int
    size_bytes: int
    columns: tuple[ColumnInfo, ...]
    source_type: SourceType
    source: str
    created_by: str
    run_id: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    name: str
    version: int
    digest: str
    data_digest: str
    profile_digest: str
    schema_digest: str  # the newest schema revision's artifact digest
    schema_revision: int
    row_count: int
    size_bytes: int
    columns: tuple[ColumnInfo, ...]
    source_type: SourceType
    source: str
    created_by: str
    created_at: int
    run_id: str | None = None
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def uri(self) -> str:
        return f"datasets:/{self.name}/{self.version}"

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.DATASET_VERSION, f"{self.name}/{self.version}")


@dataclass(frozen=True, slots=True)
class SchemaRevision:
    """One edit of a version's schema; revision 1 is the inferred one."""

    name: str
    version: int
    revision: int
    digest: str
    created_by: str
    created_at: int
    note: str = ""


def check_dataset_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"Invalid dataset name {name!r}: use 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidArgument(
            f"Dataset description has {len(description)} characters; "
            f"the limit is {MAX_DESCRIPTION_LENGTH}."
        )
    return description
