"""The tracking contract suite through a real `noria server` on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from noria.client import connect
from noria.ports.metadata import MetadataStore
from noria.settings import Settings
from noria.testing.contracts.tracking import TrackingContract
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow


class TestRemoteTracking(TrackingContract):
    @pytest.fixture
    def store(self, noria_server: RunningServer) -> Iterator[MetadataStore]:
        with connect(Settings(store_uri=noria_server.url, user="remote-tester")) as client:
            yield client.metadata
