"""The monitor and alert records contract on SQLite, PostgreSQL and through a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.backends.sql.store import SqlMetadataStore
from noria.client import connect
from noria.ports.metadata import MetadataStore
from noria.settings import Settings
from noria.testing.contracts.monitors import MonitorRepoContract
from tests.conftest import RunningServer


class TestSqlMonitors(MonitorRepoContract):
    @pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
    def store(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
        if request.param == "sqlite":
            uri = f"sqlite:///{tmp_path / 'state' / 'noria.db'}"
        else:
            uri = request.getfixturevalue("postgres_uri")
        opened = SqlMetadataStore(uri)
        opened.initialize()
        yield opened
        opened.close()


@pytest.mark.slow
class TestRemoteMonitors(MonitorRepoContract):
    @pytest.fixture
    def store(self, noria_server: RunningServer) -> Iterator[MetadataStore]:
        with connect(Settings(store_uri=noria_server.url, user="remote-tester")) as client:
            yield client.metadata


@pytest.mark.slow
def test_a_replace_naming_another_monitor_than_its_path_is_refused(
    noria_server: RunningServer,
) -> None:
    import httpx

    from noria.wire.monitors import MonitorBody

    monitor = MonitorRepoContract.monitor("ns", "other")
    body = MonitorBody.from_domain(monitor).model_dump(mode="json")
    answer = httpx.put(f"{noria_server.url}/api/v1/monitors/watch", json=body, timeout=10)
    assert answer.status_code == 400, answer.text
    assert "names monitor 'ns-other' but the path names 'watch'" in answer.json()["message"]
