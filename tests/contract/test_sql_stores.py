"""The metadata and tracking contracts on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.backends.sql.store import SqlMetadataStore
from noria.ports.metadata import MetadataStore
from noria.testing.contracts.datasets import DatasetRepoContract
from noria.testing.contracts.logged_models import LoggedModelContract
from noria.testing.contracts.metadata import MetadataStoreContract
from noria.testing.contracts.registry import RegistryContract
from noria.testing.contracts.tracking import TrackingContract


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'state' / 'noria.db'}"
    else:
        uri = request.getfixturevalue("postgres_uri")
    opened = SqlMetadataStore(uri)
    opened.initialize()
    yield opened
    opened.close()


class TestSqlMetadataStore(MetadataStoreContract):
    pass


class TestSqlTracking(TrackingContract):
    pass


class TestSqlDatasets(DatasetRepoContract):
    pass


class TestSqlRegistry(RegistryContract):
    pass


class TestSqlLoggedModels(LoggedModelContract):
    pass
