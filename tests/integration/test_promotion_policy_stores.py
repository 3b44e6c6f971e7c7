"""The promotion policy stored with a deployment: SQLite, PostgreSQL and a remote
`noria server` keep it, the audit log records each change, and bad values are refused
before anything is stored (a 400 from the server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from noria.client import Client, connect
from noria.domain.audit import AuditQuery
from noria.domain.deployments import PromotionPolicy
from noria.settings import Settings
from tests.conftest import RunningServer

POLICY = PromotionPolicy(
    min_requests=300, max_disagreement=None, metric="log_loss", min_performance_delta=0.01,
    min_labels=80, auto_promote=False,
)  # fmt: skip


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("server", marks=pytest.mark.slow),
    ]
)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    overrides: dict[str, str] = {}
    if request.param == "postgresql":
        overrides["store_uri"] = request.getfixturevalue("postgres_uri")
    if request.param == "server":
        server: RunningServer = request.getfixturevalue("noria_server")
        overrides["store_uri"] = server.url
    settings = Settings(home=tmp_path / "home", user="ana", **overrides)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "noria-model.yaml").write_text("flavor: test\n")
    with connect(settings) as opened:
        for deployment in opened.deployments.list_deployments().items:
            opened.deployments.delete(deployment.name)  # the server outlives one test
        if opened.registry.search_models(name_like="policy-model").items:
            opened.registry.delete_model("policy-model", force=True)
        with opened.tracker.start_run() as run:
            run.log_artifacts(model_dir, "model")
        opened.registry.register(f"runs:/{run.id}/model", "policy-model")
        opened.registry.set_alias("policy-model", "champion", 1)
        yield opened


def test_the_policy_is_stored_changed_audited_and_cleared(client: Client) -> None:
    service = client.deployments
    created = service.create("scored", model="models:/policy-model@champion", promotion=POLICY)
    assert created.promotion == POLICY
    assert service.get("scored").promotion == POLICY
    service.set_traffic("scored", {})  # other changes keep the policy
    assert service.get("scored").promotion == POLICY

    relaxed = PromotionPolicy(min_requests=50)
    assert service.set_promotion_policy("scored", relaxed).promotion == relaxed
    assert service.set_promotion_policy("scored", None).promotion is None
    assert service.get("scored").promotion is None
    events = client.audit.events(AuditQuery(entity=created.entity()), limit=50).items
    changes = [e for e in events if e.action == "deployment.promotion_policy_set"]
    assert [(e.before or {}).get("promotion") for e in changes] == [
        relaxed.to_dict(),
        POLICY.to_dict(),
    ]
    assert (changes[0].after or {}).get("promotion") is None

    yaml_made = service.create_from_yaml(
        "name: from-yaml\nroutes:\n  - {model: models:/policy-model@champion, role: primary}\n"
        "promotion:\n  min_requests: 10\n  metric: roc_auc\n"
    )
    assert service.get("from-yaml").promotion == yaml_made.promotion
    assert yaml_made.promotion == PromotionPolicy(min_requests=10, metric="roc_auc")
    decision = client.promotions.evaluate("from-yaml")
    assert decision.verdict == "no_challenger"


@pytest.mark.slow
def test_the_server_refuses_a_bad_policy_with_a_400(noria_server: RunningServer) -> None:
    body = {
        "name": "bad-policy",
        "routes": [{"model_uri": "models:/x@champion", "role": "primary", "percent": 100}],
        "promotion": {"min_requests": 0},
    }
    answer = httpx.post(f"{noria_server.url}/api/v1/deployments", json=body, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_ARGUMENT"
    assert "min_requests 0 is not a whole number of at least 1" in answer.json()["message"]
