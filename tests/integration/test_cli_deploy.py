"""`noria deploy …` end to end: real processes over a real SQLite store and prediction log."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from noria.client import connect
from noria.domain.entities import EntityKind, EntityRef
from noria.predictions.log import ParquetPredictionLog
from noria.predictions.records import PredictionRecord
from noria.settings import Settings
from tests.integration.test_cli import assert_one_line_error, noria

ANA = {"NORIA_USER": "ana"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Model `credit` with versions 1 to 3: @champion moved 1 → 2, @challenger on 3."""
    home = tmp_path / "home"
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "noria-model.yaml").write_text("flavor: test\n")
    with connect(Settings(home=home, user="ana")) as client:
        with client.tracker.start_run() as run:
            run.log_artifacts(model_dir, "model")
        for _ in range(3):
            client.registry.register(f"runs:/{run.id}/model", "credit")
        client.registry.set_alias("credit", "champion", 1)
        client.registry.set_alias("credit", "champion", 2)
        client.registry.set_alias("credit", "challenger", 3)
    return home


def log_predictions(home: Path, rows: list[tuple[str, int, int]]) -> None:
    """(request id, version, label) records of deployment credit-api in the prediction log."""
    now = int(time.time() * 1000)
    with connect(Settings(home=home, user="server")) as client:
        log = ParquetPredictionLog(client.artifacts)
        for request_id, version, label in rows:
            record = PredictionRecord(
                request_id=request_id,
                model="credit",
                version=version,
                deployment="credit-api",
                inputs=[{"income": 1.0}],
                outputs=[label],
                latency_ms=1.0,
                time_ms=now,
            )
            assert log.offer(record)
        log.close()


def test_create_show_list_traffic_and_delete(home: Path) -> None:
    created = noria(
        home, "deploy", "create", "credit-api", "--model", "models:/credit@champion",
        "--canary", "models:/credit@challenger=10", "--shadow", "models:/credit/1",
        "--sticky-key", "customer_id", "--json", **ANA,
    )  # fmt: skip
    assert created.code == 0, created.err
    body = created.json()
    assert [(r["model_uri"], r["role"], r["percent"], r["version"]) for r in body["routes"]] == [
        ("models:/credit@champion", "primary", 90.0, 2),
        ("models:/credit@challenger", "canary", 10.0, 3),
        ("models:/credit/1", "shadow", 0.0, 1),
    ]
    assert (body["sticky_key"], body["created_by"], body["revision"]) == ("customer_id", "ana", 1)
    assert_one_line_error(
        noria(home, "deploy", "create", "credit-api", "--model", "models:/credit/1"),
        "already exists",
    )

    # Shadow answers agree with the live version on 3 of 4 requests.
    rows = [(f"r{i}", 2, i % 2) for i in range(4)] + [(f"r{i}", 1, 0) for i in range(4)]
    log_predictions(home, [*rows, ("r9", 3, 1)])
    shown = noria(home, "deploy", "show", "credit-api", "--json").json()
    comparison = shown["comparison"]
    assert (comparison["task"], comparison["live_rows"]) == ("classification", 4)
    canary, shadow = comparison["candidates"]
    assert (shadow["version"], shadow["paired"], shadow["agreement"]) == (1, 4, 0.5)
    assert (canary["version"], canary["rows"], canary["paired"]) == (3, 1, 0)
    human = noria(home, "deploy", "show", "credit-api").out
    assert "models:/credit@challenger" in human and "50.0%" in human

    listed = noria(home, "deploy", "list", "--model", "credit", "--json").json()["deployments"]
    assert [d["name"] for d in listed] == ["credit-api"]

    moved = noria(home, "deploy", "traffic", "credit-api", "--canary", "25", "--json").json()
    assert [r["percent"] for r in moved["routes"]] == [75.0, 25.0, 0.0]
    assert_one_line_error(
        noria(home, "deploy", "traffic", "credit-api", "--canary", "models:/credit/1=5"),
        "is a shadow, not a canary",
    )
    assert noria(home, "deploy", "pause", "credit-api").code == 0

    assert noria(home, "deploy", "delete", "credit-api", **ANA).code == 0
    assert_one_line_error(noria(home, "deploy", "show", "credit-api"), "not found")
    with connect(Settings(home=home)) as client:
        actions = [e.action for e in client.audit.events().items]
        lineage = client.lineage.upstream(EntityRef(EntityKind.DEPLOYMENT, "credit-api"))
    assert actions[:4] == [
        "deployment.deleted",
        "deployment.status_set",
        "deployment.traffic_set",
        "deployment.created",
    ]
    assert {ref.key for ref in lineage.entities()} >= {"credit/1", "credit/2", "credit/3"}


def test_promote_under_a_policy_then_roll_back_step_by_step(home: Path) -> None:
    spec = home.parent / "deployment.yaml"
    spec.write_text(
        "name: credit-api\nroutes:\n"
        "  - {model: 'models:/credit@champion', role: primary}\n"
        "  - {model: 'models:/credit@challenger', role: canary, traffic: 20}\n"
    )
    assert noria(home, "deploy", "create", "--file", str(spec), **ANA).code == 0
    assert noria(home, "models", "policy", "credit", "--protect", "champion").code == 0

    refused = noria(home, "deploy", "promote", "credit-api", **ANA)
    assert_one_line_error(refused, "protected", "no gate verdict")
    with connect(Settings(home=home, user="ci")) as client:
        client.registry.record_gate("credit", 3, passed=True, verdict="{}")
    assert noria(home, "models", "approve", "models:/credit/3", NORIA_USER="bo").code == 0
    promoted = noria(home, "deploy", "promote", "credit-api", "--json", **ANA).json()
    assert promoted == {
        "deployment": "credit-api",
        "promoted": "models:/credit@challenger",
        "version": 3,
        "previous_version": 2,
        "moved_alias": "champion",
    }
    shown = noria(home, "deploy", "show", "credit-api", "--json").json()
    assert [(r["model_uri"], r["percent"], r["version"]) for r in shown["routes"]] == [
        ("models:/credit@champion", 100.0, 3)
    ]

    # Version 2 never passed a gate: the policy refuses it as champion, even on rollback.
    assert_one_line_error(noria(home, "deploy", "rollback", "credit-api"), "no gate verdict")
    assert noria(home, "models", "policy", "credit").code == 0  # no --protect: no policy
    back = noria(home, "deploy", "rollback", "credit-api", "--json").json()
    assert (back["from_version"], back["to_version"]) == (3, 2)
    again = noria(home, "deploy", "rollback", "credit-api")
    assert "moved back to version 1 (was 2)" in again.out
    assert_one_line_error(
        noria(home, "deploy", "rollback", "credit-api"), "no earlier version to roll back to"
    )
    when = noria(home, "models", "show", "models:/credit@champion", "--json").json()
    assert when["version"] == 1


def test_bad_input_gives_one_line_errors(home: Path, tmp_path: Path) -> None:
    for args, fragment in [
        (("create", "api", "--model", "models:/credit@gone"), "no alias @gone"),
        (
            ("create", "api", "--model", "models:/credit/1", "--canary", "models:/c/2"),
            "URI=PERCENT",
        ),
        (("create", "api", "--model", "models:/credit@latest"), "follows @latest"),
        (("create", "api"), "Give NAME and --model"),
        (("promote", "ghost"), "Deployment 'ghost' not found"),
    ]:
        assert_one_line_error(noria(home, "deploy", *args), fragment)
    table = pa.table({"request_id": ["a"], "version": [1], "prediction": [1]})
    path = tmp_path / "predictions.parquet"
    pq.write_table(table, path)
    assert noria(home, "deploy", "create", "api", "--model", "models:/credit/1").code == 0
    shown = noria(home, "deploy", "show", "api", "--predictions", str(path), "--json").json()
    assert shown["comparison"]["live_rows"] == 1
    assert_one_line_error(
        noria(home, "deploy", "show", "api", "--predictions", str(tmp_path / "none.parquet")),
        "Cannot read predictions",
    )
