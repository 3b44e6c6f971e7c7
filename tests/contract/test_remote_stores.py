"""The same contract suites, through a real `noria server` on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from noria.artifacts import ArtifactStore
from noria.backends.blobs.local import LocalBlobStore
from noria.client import Client, connect
from noria.ports.blobs import BlobStore
from noria.ports.metadata import MetadataStore
from noria.settings import Settings
from noria.testing.contracts.artifacts import ArtifactStoreContract
from noria.testing.contracts.blobs import BlobStoreContract
from noria.testing.contracts.datasets import DatasetRepoContract
from noria.testing.contracts.logged_models import LoggedModelContract
from noria.testing.contracts.metadata import MetadataStoreContract
from noria.testing.contracts.registry import RegistryContract
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow


@pytest.fixture
def remote_client(noria_server: RunningServer) -> Iterator[Client]:
    with connect(Settings(store_uri=noria_server.url, user="remote-tester")) as client:
        yield client


class TestRemoteMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, remote_client: Client) -> MetadataStore:
        return remote_client.metadata


class TestRemoteDatasets(DatasetRepoContract):
    @pytest.fixture
    def store(self, remote_client: Client) -> MetadataStore:
        return remote_client.metadata


class TestRemoteRegistry(RegistryContract):
    @pytest.fixture
    def store(self, remote_client: Client) -> MetadataStore:
        return remote_client.metadata


class TestRemoteBlobStore(BlobStoreContract):
    @pytest.fixture
    def blob_store(self, remote_client: Client) -> BlobStore:
        return remote_client.blobs


class TestRemoteArtifactStore(ArtifactStoreContract):
    """Artifacts go through the server; the suite's direct blob access (to count
    stored copies and to corrupt bytes behind the server's back) uses the
    server's own folder."""

    @pytest.fixture
    def artifact_store(self, remote_client: Client) -> ArtifactStore:
        return remote_client.artifacts

    @pytest.fixture
    def blob_store(self, noria_server: RunningServer) -> BlobStore:
        return LocalBlobStore(noria_server.home / "artifacts")


class TestRemoteLoggedModels(LoggedModelContract):
    @pytest.fixture
    def store(self, remote_client: Client) -> MetadataStore:
        return remote_client.metadata
