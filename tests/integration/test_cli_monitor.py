"""`noria monitor …` end to end: real processes over a real SQLite store and prediction log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from noria.client import connect
from noria.settings import Settings
from tests.integration.monitoring_world import Traffic, build_world
from tests.integration.test_cli import assert_one_line_error, noria

ANA = {"NORIA_USER": "ana"}
START = "2025-01-01T00:00:00Z"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Deployment credit-api with two logged hours (the second drifted) and a fraud-api
    deployment that never served; dataset credit/1 is the reference, xy/1 an unrelated one."""
    home = tmp_path / "home"
    with connect(Settings(home=home, user="ana")) as client:
        build_world(client, tmp_path)
        traffic = Traffic(client)
        traffic.window(0)
        traffic.window(1, income_shift=20_000.0)
        client.registry.register(client.registry.get_version("credit", 1).source, "fraud")
        client.deployments.create("fraud-api", model="models:/fraud/1")
        client.datasets.ingest(pd.DataFrame({"x": [1.0], "y": ["a"]}), name="xy")
    return home


def test_create_run_show_list_and_delete(home: Path) -> None:
    created = noria(
        home, "monitor", "create", "credit-api", "--reference", "datasets:/credit/1",
        "--window", "1h", "--start", START, "--label-column", "default",
        "--rule", "drift.share_drifted > 0.3 severity=critical", "--json", **ANA,
    )  # fmt: skip
    assert created.code == 0, created.err
    body = created.json()
    assert (body["name"], body["window"], body["features"], body["task"]) == (
        "credit-api", "1h", ["age", "income", "region"], "classification",
    )  # fmt: skip
    assert body["rules"][0]["text"] == "drift.share_drifted > 0.3 severity=critical action=log"

    ran = noria(home, "monitor", "run", "credit-api", "--now", "2025-01-01T02:10:00Z")
    assert ran.code == 0, ran.err  # an alert is an outcome, not a failure
    assert "credit-api: evaluated 2 window(s)." in ran.out
    assert "ALERT [critical] credit-api: drift.share_drifted = 0.3333 > 0.3" in ran.out
    again = noria(home, "monitor", "run", "credit-api", "--now", "2025-01-01T02:20:00Z", "--json")
    assert (again.json()["evaluated"], again.json()["fired"]) == ([], [])

    shown = noria(home, "monitor", "show", "credit-api")
    assert shown.code == 0, shown.err
    assert "2025-01-01 01:00" in shown.out and "income" in shown.out
    assert "firing" in shown.out and "critical" in shown.out
    detail = noria(home, "monitor", "show", "credit-api", "--json").json()
    assert [r["window"] for r in detail["results"]] == [
        "2025-01-01T01:00:00Z", "2025-01-01T00:00:00Z",
    ]  # fmt: skip
    assert detail["results"][0]["figures"]["feature.income.drifted"] == 1.0
    assert [a["status"] for a in detail["alerts"]] == ["firing"]

    # A new definition keeps the windows and the alert; the window may not change.
    redefine = ("monitor", "create", "credit-api", "--reference", "datasets:/credit/1")
    replaced = noria(
        home, *redefine, "--label-column", "default", "--rule", "drift.share_drifted > 0.5",
        "--description", "calmer", "--replace", **ANA,
    )  # fmt: skip
    assert replaced.code == 0, replaced.err
    assert "Replaced the definition of monitor 'credit-api'." in replaced.out
    kept = noria(home, "monitor", "show", "credit-api", "--json").json()
    assert kept["rules"][0]["text"].startswith("drift.share_drifted > 0.5")
    assert kept["start"] == detail["start"] == START  # windows go on
    assert len(kept["results"]) == 2
    assert [a["status"] for a in kept["alerts"]] == ["resolved"]  # its rule is gone
    with connect(Settings(home=home)) as client:
        updates = [e for e in client.audit.events().items if e.action == "monitor.updated"]
    assert [e.actor for e in updates] == ["ana"]
    assert updates[0].after is not None and updates[0].after["rules"][0]["threshold"] == 0.5
    assert_one_line_error(noria(home, *redefine, "--window", "2h", "--replace"), "must keep both")
    assert_one_line_error(noria(home, *redefine, "--window", "1h"), "already exists")

    listed = noria(home, "monitor", "list", "--json").json()["monitors"]
    assert [m["name"] for m in listed] == ["credit-api"]
    assert noria(home, "monitor", "delete", "credit-api").code == 0
    assert_one_line_error(noria(home, "monitor", "show", "credit-api"), "not found")


def test_create_from_yaml(home: Path, tmp_path: Path) -> None:
    spec = tmp_path / "monitor.yaml"
    spec.write_text(
        "name: watch\ndeployment: credit-api\nreference: datasets:/credit/1\nwindow: 1h\n"
        f"start: {START}\nrules:\n  - latency.p99_ms > 1000 action=log\n"
    )
    created = noria(home, "monitor", "create", "--file", str(spec))
    assert created.code == 0, created.err
    assert (
        "Created monitor 'watch'." in created.out and "rule: latency.p99_ms > 1000" in created.out
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("deployment: credit-api\nreference: datasets:/credit/1\nwindw: 1h\n")
    assert_one_line_error(
        noria(home, "monitor", "create", "--file", str(bad)), "line 3: field 'windw' is unknown"
    )


def test_mistakes_are_one_line_errors(home: Path) -> None:
    create = ("monitor", "create")
    assert_one_line_error(
        noria(home, *create, "fraud-api", "--reference", "datasets:/credit/1"),
        "Deployment 'fraud-api' has no prediction log",
    )
    assert_one_line_error(
        noria(home, *create, "credit-api", "--reference", "datasets:/xy/1"),
        "Reference datasets:/xy/1 has other columns",
    )
    assert_one_line_error(
        noria(home, *create, "credit-api", "--reference", "datasets:/credit/1",
              "--rule", "drift.share_drifted > 0.3 severty=high"),
        "cannot read 'severty=high'",
    )  # fmt: skip
    assert_one_line_error(
        noria(
            home, *create, "credit-api", "--reference", "datasets:/credit/1", "--window", "hourly"
        ),
        "Invalid window 'hourly'",
    )
