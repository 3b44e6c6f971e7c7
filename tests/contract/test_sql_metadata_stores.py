"""The metadata store contract on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.backends.sql.store import SqlMetadataStore
from noria.ports.metadata import MetadataStore
from noria.testing.contracts.metadata import MetadataStoreContract


class TestSqliteMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[MetadataStore]:
        store = SqlMetadataStore(f"sqlite:///{tmp_path / 'state' / 'noria.db'}")
        store.initialize()
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, postgres_uri: str) -> Iterator[MetadataStore]:
        store = SqlMetadataStore(postgres_uri)
        store.initialize()
        yield store
        store.close()
