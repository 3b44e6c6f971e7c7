"""`client.deployments` in process, embedded and through a real server: promotion when the
primary pins a version, traffic changes, the versions in use, audit and lineage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noria.client import Client, connect
from noria.domain.deployments import RouteRole
from noria.domain.lineage import Relation
from noria.errors import Conflict, InvalidArgument, NotFound
from noria.settings import Settings
from tests.conftest import RunningServer


@pytest.fixture(params=["sqlite", pytest.param("server", marks=pytest.mark.slow)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    if request.param == "sqlite":
        settings = Settings(home=tmp_path / "home", user="ana")
    else:
        server: RunningServer = request.getfixturevalue("noria_server")
        settings = Settings(home=tmp_path / "home", store_uri=server.url, user="ana")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "noria-model.yaml").write_text("flavor: test\n")
    with connect(settings) as opened:
        with opened.tracker.start_run() as run:
            run.log_artifacts(model_dir, "model")
        for deployment in opened.deployments.list_deployments().items:
            opened.deployments.delete(deployment.name)  # the server outlives one test
        for name in ("fraud", "churn"):
            if opened.registry.search_models(name_like=name).items:
                opened.registry.delete_model(name, force=True)
            for _ in range(3):
                opened.registry.register(f"runs:/{run.id}/model", name)
        opened.registry.set_alias("fraud", "challenger", 3)
        yield opened


def test_promoting_onto_a_pinned_primary_rewrites_the_routes(client: Client) -> None:
    service = client.deployments
    service.create(
        "fraud-api",
        model="models:/fraud/1",
        canaries={"models:/fraud@challenger": 30},
        shadows=["models:/churn/2"],
    )
    with pytest.raises(InvalidArgument, match="several routes to promote"):
        service.promote("fraud-api")
    with pytest.raises(InvalidArgument, match="is already the primary"):
        service.promote("fraud-api", "models:/fraud/1")
    done = service.promote("fraud-api", "models:/fraud@challenger")
    assert (done.version.version, done.previous_version, done.moved_alias) == (3, 1, None)
    assert [(r.model_uri, r.role, r.percent) for r in done.deployment.routes] == [
        ("models:/fraud/3", RouteRole.PRIMARY, 100.0),
        ("models:/churn/2", RouteRole.SHADOW, 0.0),
    ]
    with pytest.raises(Conflict, match="pins its primary to models:/fraud/3"):
        service.rollback("fraud-api")
    # A shadow of another model replaces the primary too.
    shadow = service.promote("fraud-api")
    assert shadow.deployment.routes[0].model_uri == "models:/churn/2"
    edges = client.lineage.upstream(shadow.deployment.entity(), depth=1).steps
    served = {step.edge.upstream.key for step in edges}
    assert served == {"fraud/1", "fraud/3", "churn/2"}
    assert {step.edge.relation for step in edges} == {Relation.DEPLOYED_AS}


def test_traffic_changes_and_the_versions_in_use(client: Client) -> None:
    service = client.deployments
    service.create("fraud-a", model="models:/fraud/1", canaries={"models:/fraud@challenger": 10})
    service.create("fraud-b", model="models:/fraud/1", shadows=["models:/churn/1"])
    assert service.versions_in_use("fraud") == {1: ["fraud-a", "fraud-b"], 3: ["fraud-a"]}
    assert service.versions_in_use("churn") == {1: ["fraud-b"]}

    grown = service.set_traffic("fraud-a", {"models:/fraud@challenger": 40})
    assert [r.percent for r in grown.routes] == [60.0, 40.0]
    assert grown.revision == 2
    with pytest.raises(InvalidArgument, match="has no route 'models:/fraud/2'"):
        service.set_traffic("fraud-a", {"models:/fraud/2": 5})
    stopped = service.set_traffic("fraud-a", {"models:/fraud@challenger": 0})
    assert [(r.model_uri, r.percent) for r in stopped.routes] == [("models:/fraud/1", 100.0)]

    client.registry.delete_alias("fraud", "challenger")
    assert service.resolve(grown) == {"models:/fraud/1": 1, "models:/fraud@challenger": None}
    with pytest.raises(NotFound, match="no alias @challenger"):
        service.create("fraud-c", model="models:/fraud@challenger")
    events = [e.action for e in client.audit.events().items if e.entity.key == "fraud-a"]
    assert events == ["deployment.traffic_set", "deployment.traffic_set", "deployment.created"]


def test_deleting_a_served_version_needs_force(client: Client) -> None:
    client.deployments.create(
        "churn-api", model="models:/churn/1", shadows=["models:/fraud@challenger"]
    )
    with pytest.raises(Conflict, match=r"v3 is served by deployment\(s\) churn-api"):
        client.registry.delete_version("fraud", 3)
    with pytest.raises(Conflict, match=r"'churn' v1 is served by deployment\(s\) churn-api"):
        client.registry.delete_model("churn")
    client.registry.delete_version("fraud", 2)  # no deployment serves it
    assert client.registry.delete_version("fraud", 3, force=True).version == 3
