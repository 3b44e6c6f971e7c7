"""The `noria` command end to end, as a user runs it: a real process, real stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from noria import __version__
from noria.backends.sql import migrator
from noria.client import connect
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.ids import new_id
from noria.domain.lineage import Relation
from noria.settings import Settings
from tests.conftest import RunningServer

HEAD = migrator.head_revision()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def noria(home: Path, *args: str, **env: str) -> Result:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("NORIA_")}
    clean["NORIA_HOME"] = str(home)
    clean.update(env)
    command = [sys.executable, "-m", "noria.cli.main", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, env=clean, timeout=60, check=False
    )
    return Result(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.code == 1, result
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_version(tmp_path: Path) -> None:
    result = noria(tmp_path, "--version")
    assert (result.code, result.out.strip()) == (0, f"noria {__version__}")


def test_init_info_and_audit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = noria(home, "init", "--json")
    assert first.code == 0, first.err
    assert first.json()["created"] is True
    assert noria(home, "init", "--json").json()["created"] is False

    info = noria(home, "info", "--json", NORIA_USER="alice").json()
    assert info["store_uri"] == f"sqlite:///{home / 'noria.db'}"
    assert info["artifact_uri"] == str(home / "artifacts")
    assert info["schema"]["status"] == "current"
    assert info["counts"] == {"lineage_edges": 0, "audit_events": 1}
    assert info["user"] == "alice"

    human = noria(home, "info")
    assert "schema" in human.out and "(current)" in human.out

    events = noria(home, "audit", "--json").json()["events"]
    assert [event["action"] for event in events] == ["store.created"]
    assert events[0]["entity"] == {"kind": "store", "key": "metadata"}
    assert "store.created" in noria(home, "audit").out


def test_lineage_json_and_tree(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = EntityRef(EntityKind.RUN, new_id())
    data = EntityRef(EntityKind.DATASET_VERSION, "credit/7")
    model = EntityRef(EntityKind.MODEL_VERSION, "credit-risk/3")
    with connect(Settings(home=home)) as client:
        client.lineage.record(data, Relation.CONSUMED, run)
        client.lineage.record(run, Relation.PRODUCED, model)

    upstream = noria(home, "lineage", "models:/credit-risk/3", "--up", "--json").json()
    assert [edge["upstream"] for edge in upstream[0]["edges"]] == [run.uri, data.uri]
    assert [edge["depth"] for edge in upstream[0]["edges"]] == [1, 2]

    shallow = noria(home, "lineage", "models:/credit-risk/3", "--up", "--depth", "1", "--json")
    assert len(shallow.json()[0]["edges"]) == 1

    both = noria(home, "lineage", run.uri)
    assert both.code == 0
    assert "consumed ← datasets:/credit/7" in both.out
    assert "produced → models:/credit-risk/3" in both.out


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert_one_line_error(noria(home, "lineage", "models:/credit@champion"), "alias")
    assert_one_line_error(noria(home, "lineage", "runs:/nope"), "'runs:/nope'", "Accepted forms")
    assert_one_line_error(noria(home, "info", NORIA_HTTP_TIMEOUT="soon"), "NORIA_HTTP_TIMEOUT")
    assert_one_line_error(
        noria(home, "--store-uri", "mysql://x/y", "info"), "'mysql://x/y'", "sqlite:///"
    )
    assert_one_line_error(noria(home, "audit", "--since", "yesterday"), "'yesterday'", "ISO 8601")
    usage = noria(home, "lineage", "runs:/x", "--depth", "0")
    assert usage.code == 2 and "Traceback" not in usage.err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = noria(tmp_path, "--debug", "lineage", "models:/credit@champion")
    assert result.code != 0
    assert "Traceback" in result.err


def test_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    uri = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    assert_one_line_error(noria(tmp_path, "--store-uri", uri, "info"), "127.0.0.1")


@pytest.mark.slow
def test_cli_against_a_remote_server(tmp_path: Path, noria_server: RunningServer) -> None:
    local = tmp_path / "client-home"
    remote = noria(local, "--store-uri", noria_server.url, "info", "--json")
    assert remote.code == 0, remote.err
    assert remote.json()["store_uri"] == noria_server.url
    assert remote.json()["schema"]["status"] == "current"
    assert not local.exists(), "a remote client must not create a local store"
    upgrade = noria(local, "--store-uri", noria_server.url, "db", "upgrade")
    assert_one_line_error(upgrade, "on the server host")


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    result = noria(tmp_path, "--store-uri", "http://127.0.0.1:1", "info")
    assert_one_line_error(result, "Cannot reach the Noria server at http://127.0.0.1:1")


def test_outdated_store_asks_for_db_upgrade_then_upgrades(tmp_path: Path) -> None:
    from noria.backends.sql import migrator
    from noria.backends.sql.engine import make_engine

    home = tmp_path / "home"
    engine = make_engine(f"sqlite:///{home / 'noria.db'}")
    try:
        migrator.migrate(engine, "0001")  # a store made by the first Noria release
    finally:
        engine.dispose()

    info = noria(home, "info", "--json").json()
    assert info["schema"] == {"revision": "0001", "head": HEAD, "status": "outdated"}
    assert "run `noria db upgrade`" in noria(home, "info").out
    assert_one_line_error(noria(home, "audit"), "0001", HEAD, "run `noria db upgrade`")
    assert_one_line_error(noria(home, "init"), "run `noria db upgrade`")

    upgraded = noria(home, "db", "upgrade", "--json")
    assert upgraded.code == 0, upgraded.err
    assert upgraded.json() == {"from_revision": "0001", "to_revision": HEAD}
    events = noria(home, "audit", "--json").json()["events"]
    assert [(e["action"], e["before"], e["after"]) for e in events] == [
        ("store.upgraded", {"revision": "0001"}, {"revision": HEAD})
    ]
    assert f"already at {HEAD}" in noria(home, "db", "upgrade").out


def test_store_from_a_newer_noria_is_refused_untouched(tmp_path: Path) -> None:
    from sqlalchemy import text

    from noria.backends.sql.engine import make_engine

    home = tmp_path / "home"
    assert noria(home, "init").code == 0
    engine = make_engine(f"sqlite:///{home / 'noria.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    finally:
        engine.dispose()
    before = (home / "noria.db").read_bytes()
    assert_one_line_error(noria(home, "db", "upgrade"), "newer Noria", "0999")
    assert_one_line_error(noria(home, "audit"), "newer Noria")
    assert (home / "noria.db").read_bytes() == before
