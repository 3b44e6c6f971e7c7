"""`noria models …` end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from noria.client import connect
from noria.settings import Settings
from tests.integration.test_cli import assert_one_line_error, noria


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "home"
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "noria-model.yaml").write_text("flavor: test\n")
    with connect(Settings(home=home, user="ana")) as client, client.tracker.start_run() as run:
        run.log_metric("auc", 0.87)
        run.log_artifacts(model_dir, "model")
    return home, run.id


def test_register_alias_approve_history_lineage_delete(home: tuple[Path, str]) -> None:
    path, run_id = home
    ana = {"NORIA_USER": "ana"}
    registered = noria(
        path, "models", "register", f"runs:/{run_id}/model", "credit", "--json", **ana
    )
    assert registered.code == 0, registered.err
    assert registered.json()["uri"] == "models:/credit/1"
    assert noria(path, "models", "register", f"runs:/{run_id}/model", "credit", **ana).code == 0

    assert noria(path, "models", "policy", "credit", "--protect", "champion", **ana).code == 0
    refused = noria(path, "models", "alias", "credit", "champion", "1", **ana)
    assert_one_line_error(refused, "protected", "no gate verdict")
    with connect(Settings(home=path, user="ci")) as client:
        client.registry.record_gate("credit", 1, passed=True, verdict="{}")
    assert_one_line_error(
        noria(path, "models", "approve", "models:/credit/1", **ana), "cannot approve it"
    )
    assert noria(path, "models", "approve", "models:/credit/1", NORIA_USER="bo").code == 0
    moved = noria(path, "models", "alias", "credit", "champion", "1", "--json", **ana).json()
    assert moved == {"model": "credit", "alias": "champion", "version": 1, "previous": None}
    assert noria(path, "models", "alias", "credit", "challenger", "2", **ana).code == 0

    listed = noria(path, "models", "list", "--json").json()["models"]
    assert listed[0]["aliases"] == {"challenger": 2, "champion": 1}
    shown = noria(path, "models", "show", "models:/credit@champion", "--json").json()
    assert (shown["version"], shown["approved_by"], shown["metrics"]) == (1, "bo", {"auc": 0.87})
    assert "champion" in noria(path, "models", "show", "credit").out

    events = noria(path, "models", "history", "credit", "--json").json()["events"]
    assert events[0]["action"] == "model.alias_set" and events[0]["actor"] == "ana"
    when = noria(path, "models", "history", "credit", "--alias", "champion", "--at",
                 "2999-01-01T00:00:00", "--json").json()  # fmt: skip
    assert when["version"] == 1

    graph = noria(path, "models", "lineage", "models:/credit/1", "--json").json()
    assert {"upstream": f"runs:/{run_id}", "relation": "produced",
            "downstream": "models:/credit/1"} in graph["upstream"]  # fmt: skip

    assert_one_line_error(noria(path, "models", "delete", "models:/credit/1"), "--force")
    assert noria(path, "models", "delete", "models:/credit/1", "--force").code == 0
    assert_one_line_error(noria(path, "models", "show", "models:/credit/1"), "no version 1")
    assert_one_line_error(noria(path, "models", "show", "ghost"), "'ghost' not found")
