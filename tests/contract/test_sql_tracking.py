"""The tracking contract on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.backends.sql.store import SqlMetadataStore
from noria.ports.metadata import MetadataStore
from noria.testing.contracts.tracking import TrackingContract


class TestSqliteTracking(TrackingContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[MetadataStore]:
        store = SqlMetadataStore(f"sqlite:///{tmp_path / 'noria.db'}")
        store.initialize()
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresTracking(TrackingContract):
    @pytest.fixture
    def store(self, postgres_uri: str) -> Iterator[MetadataStore]:
        store = SqlMetadataStore(postgres_uri)
        store.initialize()
        yield store
        store.close()
