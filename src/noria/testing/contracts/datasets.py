"""Contract every :class:`~noria.ports.datasets.DatasetRepo` must pass.

Subclass :class:`DatasetRepoContract` in a ``Test*`` class and provide a ``store``
fixture yielding an initialized metadata store; each test uses its own dataset names.
"""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from noria.domain.datasets import ColumnInfo, NewDatasetVersion, SourceType
from noria.errors import InvalidArgument, NotFound
from noria.ports.metadata import MetadataStore


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class DatasetRepoContract:
    @pytest.fixture
    def name(self) -> str:
        return f"credit-{uuid.uuid4().hex[:10]}"

    @staticmethod
    def new(name: str, content: str = "rows-1", **changes: object) -> NewDatasetVersion:
        version = NewDatasetVersion(
            name=name,
            digest=digest_of(content),
            data_digest=digest_of(f"parquet:{content}"),
            profile_digest=digest_of(f"profile:{content}"),
            schema_digest=digest_of(f"schema:{content}"),
            row_count=3,
            size_bytes=1234,
            columns=(ColumnInfo("age", "int64"), ColumnInfo("city", "string")),
            source_type=SourceType.CSV,
            source="file:///data/credit.csv",
            created_by="ana",
        )
        return replace(version, **changes)  # type: ignore[arg-type]

    def test_first_version_is_one_and_reads_back(self, store: MetadataStore, name: str) -> None:
        version, created = store.datasets.add_version(self.new(name, run_id="a" * 32))
        assert created
        assert (version.name, version.version, version.uri) == (name, 1, f"datasets:/{name}/1")
        assert version.columns == (ColumnInfo("age", "int64"), ColumnInfo("city", "string"))
        assert version.column_names == ("age", "city")
        assert (version.row_count, version.size_bytes, version.run_id) == (3, 1234, "a" * 32)
        assert (version.schema_revision, version.schema_digest) == (1, digest_of("schema:rows-1"))
        assert version.source_type is SourceType.CSV
        assert store.datasets.get_version(name, 1) == version
        assert store.datasets.get_version(name) == version

    def test_same_content_is_the_same_version(self, store: MetadataStore, name: str) -> None:
        first, _ = store.datasets.add_version(self.new(name))
        again, created = store.datasets.add_version(self.new(name, source="elsewhere"))
        assert not created
        assert again == first
        assert store.datasets.list_versions(name).items == [first]

    def test_new_content_gets_the_next_number(self, store: MetadataStore, name: str) -> None:
        store.datasets.add_version(self.new(name, "a"))
        second, created = store.datasets.add_version(self.new(name, "b"))
        assert created and second.version == 2
        assert store.datasets.get_version(name).version == 2
        assert [v.version for v in store.datasets.list_versions(name).items] == [2, 1]
        assert store.datasets.find_version(name, digest_of("a")) is not None
        assert store.datasets.find_version(name, digest_of("zzz")) is None

    def test_concurrent_ingest_of_one_content_stores_it_once(
        self, store: MetadataStore, name: str
    ) -> None:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: store.datasets.add_version(self.new(name)), range(4)))
        assert {version.version for version, _ in results} == {1}
        assert sum(created for _, created in results) == 1

    def test_unknown_dataset_and_version_are_precise(self, store: MetadataStore, name: str) -> None:
        with pytest.raises(NotFound, match=f"Dataset '{name}' not found"):
            store.datasets.get_version(name)
        with pytest.raises(NotFound):
            store.datasets.list_versions(name)
        assert store.datasets.find_version(name, digest_of("x")) is None
        store.datasets.add_version(self.new(name))
        with pytest.raises(NotFound, match="has no version 7: its versions are 1 to 1"):
            store.datasets.get_version(name, 7)

    def test_bad_name_is_refused(self, store: MetadataStore) -> None:
        with pytest.raises(InvalidArgument, match="Invalid dataset name"):
            store.datasets.add_version(self.new("bad name/x"))

    def test_list_datasets_pages_by_name(self, store: MetadataStore, name: str) -> None:
        for suffix in ("a", "b", "c"):
            store.datasets.add_version(self.new(f"{name}-{suffix}"))
        store.datasets.add_version(self.new(f"{name}-b", "second"))
        first = store.datasets.list_datasets(name_like=f"{name}-%", limit=2)
        assert [d.name for d in first.items] == [f"{name}-a", f"{name}-b"]
        assert (first.items[1].version_count, first.items[1].latest_version) == (2, 2)
        assert first.next_page_token is not None
        rest = store.datasets.list_datasets(
            name_like=f"{name}-%", limit=2, page_token=first.next_page_token
        )
        assert [d.name for d in rest.items] == [f"{name}-c"]
        assert rest.next_page_token is None

    def test_schema_revisions_move_the_current_schema(
        self, store: MetadataStore, name: str
    ) -> None:
        store.datasets.add_version(self.new(name))
        revision = store.datasets.add_schema_revision(
            name, 1, digest=digest_of("edited"), created_by="bo", note="loosen age"
        )
        assert (revision.revision, revision.created_by, revision.note) == (2, "bo", "loosen age")
        current = store.datasets.get_version(name, 1)
        assert (current.schema_revision, current.schema_digest) == (2, digest_of("edited"))
        history = store.datasets.list_schema_revisions(name, 1)
        assert [r.revision for r in history] == [1, 2]
        assert history[0].digest == digest_of("schema:rows-1")
        with pytest.raises(NotFound):
            store.datasets.add_schema_revision(name, 9, digest=digest_of("x"), created_by="bo")
