"""Port of the dataset catalogue: datasets, their numbered versions and schema revisions."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from noria.domain.datasets import Dataset, DatasetVersion, NewDatasetVersion, SchemaRevision
from noria.domain.paging import Page


@runtime_checkable
class DatasetRepo(Protocol):
    def add_version(self, new: NewDatasetVersion) -> tuple[DatasetVersion, bool]:
        """Number and store a version, creating the dataset on first use.

        Content already stored under this name (same ``digest``) is not stored again: the
        existing version comes back with ``False``. The new version's schema revision 1 is
        ``new.schema_digest``.
        """
        ...

    def get_version(self, name: str, version: int | None = None) -> DatasetVersion:
        """One version; ``None`` means the newest. Raises ``NotFound``."""
        ...

    def find_version(self, name: str, digest: str) -> DatasetVersion | None: ...

    def list_datasets(
        self, *, name_like: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Dataset]:
        """Datasets by name."""
        ...

    def list_versions(
        self, name: str, *, limit: int = 100, page_token: str | None = None
    ) -> Page[DatasetVersion]:
        """A dataset's versions, newest first. Raises ``NotFound`` for an unknown dataset."""
        ...

    def add_schema_revision(
        self, name: str, version: int, *, digest: str, created_by: str, note: str = ""
    ) -> SchemaRevision:
        """Make ``digest`` the version's current schema (the rows never change)."""
        ...

    def list_schema_revisions(self, name: str, version: int) -> list[SchemaRevision]:
        """Oldest first; the last one is current."""
        ...
