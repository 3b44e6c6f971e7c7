"""What an earlier quickstart run left, on a real SQLite store: the quickstart's own objects
are recognised by their marks and brought back to the starting shape by audited updates;
objects with its names that a user made are refused in one line, before anything changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.client import Client, connect
from noria.domain.audit import AuditQuery
from noria.domain.deployments import DeploymentStatus, PromotionPolicy, Route, RouteRole
from noria.errors import AlreadyExists
from noria.quickstart import earlier
from noria.settings import Settings

POLICY = PromotionPolicy(min_requests=10, max_disagreement=0.35, metric="f1", min_labels=5)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with connect(Settings(home=tmp_path / "home", user="ana")) as opened:
        yield opened


def _register(client: Client, times: int) -> None:
    """``times`` versions of credit-risk, of a stand-in model logged by a real run."""
    folder = client.settings.home / "stand-in"
    folder.mkdir(exist_ok=True)
    (folder / "noria-model.yaml").write_text("flavor: test\n")
    with client.tracker.start_run() as run:
        run.log_artifacts(folder, "model")
    for _ in range(times):
        client.registry.register(f"runs:/{run.id}/model", "credit-risk")


def test_a_fresh_home_holds_nothing_and_the_model_is_created_with_the_mark(
    client: Client,
) -> None:
    found = earlier.inspect(client)
    assert not found.found and found.versions == 0
    earlier.claim_model(client, found)
    model = client.registry.get_model("credit-risk")
    assert model.tags == {earlier.MARK_TAG: "1"}
    assert model.description.startswith(earlier.MARK)
    _register(client, 2)
    again = earlier.inspect(client)
    assert again.found and again.versions == 2
    earlier.claim_model(client, again)  # already there: left as it is
    assert client.registry.get_model("credit-risk").latest_version == 2


def test_an_earlier_runs_deployment_is_brought_back_to_the_starting_shape(
    client: Client,
) -> None:
    earlier.claim_model(client, earlier.inspect(client))
    _register(client, 2)
    client.registry.set_alias("credit-risk", "champion", 1)
    client.registry.set_alias("credit-risk", "challenger", 2)
    # What an interrupted run leaves: a shadowed challenger, another policy, paused.
    client.deployments.create(
        "credit-api",
        model=earlier.PRIMARY,
        shadows=["models:/credit-risk@challenger"],
        description=f"{earlier.MARK}: test",
        promotion=PromotionPolicy(min_requests=500),
    )
    client.deployments.set_status("credit-api", DeploymentStatus.PAUSED)
    found = earlier.inspect(client)
    assert found.deployment is not None

    changed = earlier.reset_deployment(client, found.deployment, POLICY)

    assert len(changed) == 3
    assert "shadow models:/credit-risk@challenger" in changed[0]
    reset = client.deployments.get("credit-api")
    assert reset.routes == (Route(earlier.PRIMARY, RouteRole.PRIMARY, 100.0),)
    assert reset.promotion == POLICY and reset.status is DeploymentStatus.ACTIVE
    events = client.audit.events(AuditQuery(entity=reset.entity())).items
    actions = {event.action for event in events}
    assert {"deployment.created", earlier.RESET_ACTION} <= actions  # history kept
    assert earlier.reset_deployment(client, reset, POLICY) == []  # nothing left to do


def test_objects_a_user_made_with_the_quickstarts_names_are_refused(client: Client) -> None:
    client.registry.create_model("credit-risk", description="ana's own")
    with pytest.raises(AlreadyExists) as refused:
        earlier.inspect(client)
    line = str(refused.value)
    assert "\n" not in line
    assert "model 'credit-risk' (it has no tag noria.quickstart)" in line
    assert "the quickstart did not make" in line and "--home" in line

    client.schedules.add("my_flows:train", event="retrain-credit", name="retrain-credit")
    with pytest.raises(AlreadyExists, match="schedule 'retrain-credit' \\(it runs my_flows"):
        earlier.inspect(client)


def test_a_deployment_without_the_mark_is_refused(client: Client) -> None:
    earlier.claim_model(client, earlier.inspect(client))
    _register(client, 1)
    client.deployments.create("credit-api", model="models:/credit-risk/1")
    with pytest.raises(AlreadyExists, match="deployment 'credit-api' \\(its description"):
        earlier.inspect(client)


def test_an_earlier_runs_schedule_restarts_or_is_made_again_with_new_parameters(
    client: Client,
) -> None:
    assert earlier.restart_schedule(client, None, {"trials": 2, "seed": 7}) == ""
    made = client.schedules.get("retrain-credit")
    assert (made.pipeline, made.event, dict(made.params)) == (
        earlier.PIPELINE,
        "retrain-credit",
        {"trials": "2", "seed": "7"},
    )

    done = earlier.restart_schedule(client, made, {"trials": 2, "seed": 7})
    assert done.startswith("paused and resumed")
    restarted = client.schedules.get("retrain-credit")
    assert restarted.enabled and restarted.active_since >= made.active_since
    assert restarted.created_at == made.created_at  # the same schedule, its firings kept
    actions = [e.action for e in client.audit.events(AuditQuery(entity=made.entity())).items]
    assert {"schedule.paused", "schedule.resumed"} <= set(actions)

    done = earlier.restart_schedule(client, restarted, {"trials": 4, "seed": 7})
    assert done == "made again with this run's parameters"
    assert dict(client.schedules.get("retrain-credit").params) == {"trials": "4", "seed": "7"}
