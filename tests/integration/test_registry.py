"""The registry service: registration from runs, audit trail, alias history, policy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from noria.client import Client, connect
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.registry import ApprovalPolicy
from noria.errors import InvalidArgument, NotFound, PolicyViolation
from noria.settings import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    overrides = {}
    if request.param == "postgresql":
        overrides["store_uri"] = request.getfixturevalue("postgres_uri")
    yield Settings(home=tmp_path / "home", user="ana", **overrides)


@pytest.fixture
def ana(home: Settings) -> Iterator[Client]:
    with connect(home) as client:
        yield client


@pytest.fixture
def bo(home: Settings) -> Iterator[Client]:
    with connect(home.model_copy(update={"user": "bo"})) as client:
        yield client


def trained_run(client: Client, tmp_path: Path, auc: float) -> str:
    model_dir = tmp_path / f"model-{auc}"
    model_dir.mkdir()
    (model_dir / "noria-model.yaml").write_text(f"flavor: test\nauc: {auc}\n")
    (model_dir / "payload.bin").write_bytes(b"weights" * 10)
    with client.tracker.start_run(experiment="credit") as run:
        run.log_metric("auc", auc)
        run.log_artifacts(model_dir, "model")
    return run.id


def test_register_from_a_run_records_metrics_digest_and_lineage(
    ana: Client, tmp_path: Path
) -> None:
    run_id = trained_run(ana, tmp_path, 0.81)
    version = ana.registry.register(f"runs:/{run_id}/model", "credit-risk")
    assert (version.uri, version.run_id, version.created_by) == (
        "models:/credit-risk/1",
        run_id,
        "ana",
    )
    assert version.metrics == {"auc": 0.81}
    assert len(version.digest) == 64
    again = ana.registry.register(f"runs:/{run_id}/model", "credit-risk")
    assert again.version == 2 and again.digest == version.digest  # same files, same digest
    upstream = [step.edge for step in ana.lineage.upstream(version.entity(), depth=1).steps]
    assert LineageEdge(EntityRef(EntityKind.RUN, run_id), Relation.PRODUCED, version.entity()) in (
        upstream
    )
    assert ana.registry.resolve("models:/credit-risk@latest").version == 2
    with pytest.raises(NotFound, match="has no files under 'nope'"):
        ana.registry.register(f"runs:/{run_id}/nope", "credit-risk")
    with pytest.raises(InvalidArgument, match="does not name one model version"):
        ana.registry.resolve("models:/credit-risk")


def test_alias_history_answers_what_was_champion_when(ana: Client, tmp_path: Path) -> None:
    run_id = trained_run(ana, tmp_path, 0.8)
    for _ in range(3):
        ana.registry.register(f"runs:/{run_id}/model", "credit-risk")
    before_any = datetime.now(UTC)
    time.sleep(0.01)
    ana.registry.set_alias("credit-risk", "champion", 1)
    time.sleep(0.01)
    during_first = datetime.now(UTC)
    time.sleep(0.01)
    assert ana.registry.set_alias("credit-risk", "champion", 3) == 1
    time.sleep(0.01)
    during_second = datetime.now(UTC)
    time.sleep(0.01)
    ana.registry.delete_alias("credit-risk", "champion")
    assert ana.registry.alias_at("credit-risk", "champion", before_any) is None
    assert ana.registry.alias_at("credit-risk", "champion", during_first) == 1
    assert ana.registry.alias_at("credit-risk", "champion", during_second) == 3
    assert ana.registry.alias_at("credit-risk", "champion", datetime.now(UTC)) is None
    actions = [event.action for event in ana.registry.history("credit-risk")]
    assert actions[:3] == ["model.alias_deleted", "model.alias_set", "model.alias_set"]
    assert actions.count("model.version_registered") == 3 and actions[-1] == "model.created"
    moved = ana.registry.history("credit-risk")[1]
    assert (moved.actor, moved.before, moved.after) == (
        "ana",
        {"alias": "champion", "version": 1},
        {"alias": "champion", "version": 3},
    )


def test_policy_needs_a_passed_gate_and_a_second_person(
    ana: Client, bo: Client, tmp_path: Path
) -> None:
    run_id = trained_run(ana, tmp_path, 0.9)
    version = ana.registry.register(f"runs:/{run_id}/model", "credit-risk")
    ana.registry.set_policy("credit-risk", ApprovalPolicy(protected_aliases=("champion",)))
    with pytest.raises(PolicyViolation, match="no gate verdict"):
        ana.registry.set_alias("credit-risk", "champion", version.version)
    ana.registry.record_gate("credit-risk", 1, passed=True, verdict='{"rules": []}')
    with pytest.raises(PolicyViolation, match="cannot approve it"):
        ana.registry.approve("credit-risk", 1)
    assert bo.registry.approve("credit-risk", 1).approved_by == "bo"
    ana.registry.set_alias("credit-risk", "champion", 1)
    assert ana.registry.resolve("models:/credit-risk@champion").version == 1
    actions = {event.action for event in ana.registry.history("credit-risk")}
    assert {"model.policy_set", "model.gate_recorded", "model.version_approved"} <= actions
