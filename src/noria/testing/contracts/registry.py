"""Contract every model registry backend must pass (the three registry ports together).

Subclass :class:`RegistryContract` in a ``Test*`` class and provide a ``store`` fixture
yielding an initialized metadata store; each test uses its own model names.
"""

from __future__ import annotations

import math
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from noria.domain.ids import new_id
from noria.domain.registry import ApprovalPolicy, GateRecord, NewModelVersion, VersionStatus
from noria.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, PolicyViolation
from noria.ports.metadata import MetadataStore


class RegistryContract:
    @pytest.fixture
    def name(self) -> str:
        return f"credit-{uuid.uuid4().hex[:10]}"

    @staticmethod
    def register(store: MetadataStore, name: str, author: str = "ana") -> int:
        new = NewModelVersion(name=name, source=f"runs:/{new_id()}/model", created_by=author)
        return store.model_versions.create_version(new).version

    def test_create_get_update_and_tags(self, store: MetadataStore, name: str) -> None:
        created = store.models.create_model(name, description="risk", tags={"team": "a"})
        assert (created.name, created.description, created.tags) == (name, "risk", {"team": "a"})
        assert created.latest_version is None and created.aliases == {}
        with pytest.raises(AlreadyExists, match=name):
            store.models.create_model(name)
        store.models.set_model_tag(name, "team", "b")
        store.models.set_model_tag(name, "tier", "gold")
        store.models.delete_model_tag(name, "tier")
        updated = store.models.update_model(name, description="credit risk")
        assert (updated.description, updated.tags) == ("credit risk", {"team": "b"})
        assert store.models.get_model(name) == updated
        with pytest.raises(NotFound, match="not found"):
            store.models.get_model(f"{name}-missing")
        with pytest.raises(InvalidArgument, match="Invalid model name"):
            store.models.create_model("no spaces here")

    def test_versions_are_numbered_and_searchable(self, store: MetadataStore, name: str) -> None:
        store.models.create_model(name)
        run_id = new_id()
        new = NewModelVersion(
            name=name,
            source=f"runs:/{run_id}/model",
            created_by="ana",
            run_id=run_id,
            digest="ab" * 32,
            tags={"stage": "dev"},
            metrics={"auc": 0.91, "loss": math.inf},
            signature_json='{"inputs": []}',
        )
        first = store.model_versions.create_version(new)
        assert (first.version, first.status, first.run_id) == (1, VersionStatus.READY, run_id)
        assert first.metrics == {"auc": 0.91, "loss": math.inf}
        assert first.uri == f"models:/{name}/1"
        assert self.register(store, name) == 2
        assert store.models.get_model(name).latest_version == 2
        found = store.model_versions.search_versions(name=name)
        assert [v.version for v in found.items] == [2, 1]
        by_run = store.model_versions.search_versions(run_id=run_id)
        assert [v.uri for v in by_run.items] == [first.uri]
        store.model_versions.set_version_tag(name, 1, "stage", "prod")
        store.model_versions.delete_version_tag(name, 2, "absent")
        updated = store.model_versions.update_version(name, 1, description="first")
        assert (updated.description, updated.tags) == ("first", {"stage": "prod"})
        with pytest.raises(NotFound, match="has no version 9: its versions are 1 to 2"):
            store.model_versions.get_version(name, 9)
        with pytest.raises(NotFound):
            store.model_versions.create_version(
                NewModelVersion(name=f"{name}-x", source="runs:/x/m", created_by="ana")
            )

    def test_concurrent_registrations_get_distinct_numbers(
        self, store: MetadataStore, name: str
    ) -> None:
        store.models.create_model(name)
        with ThreadPoolExecutor(4) as pool:
            numbers = list(pool.map(lambda _: self.register(store, name), range(8)))
        assert sorted(numbers) == list(range(1, 9))

    def test_aliases_move_and_resolve(self, store: MetadataStore, name: str) -> None:
        store.models.create_model(name)
        for _ in range(3):
            self.register(store, name)
        assert store.promotion.set_alias(name, "champion", 1) is None
        assert store.promotion.set_alias(name, "champion", 2) == 1
        assert store.promotion.version_by_alias(name, "champion").version == 2
        assert store.promotion.version_by_alias(name, "latest").version == 3
        assert store.models.get_model(name).aliases == {"champion": 2}
        assert store.model_versions.get_version(name, 2).aliases == ("champion",)
        assert store.promotion.delete_alias(name, "champion") == 2
        with pytest.raises(NotFound, match="no alias @champion"):
            store.promotion.version_by_alias(name, "champion")
        with pytest.raises(InvalidArgument, match="reserved"):
            store.promotion.set_alias(name, "latest", 1)
        with pytest.raises(NotFound):
            store.promotion.set_alias(name, "champion", 7)

    def test_policy_guards_protected_aliases(self, store: MetadataStore, name: str) -> None:
        store.models.create_model(name)
        self.register(store, name, author="ana")
        policy = ApprovalPolicy(protected_aliases=("champion",))
        assert store.models.set_policy(name, policy).policy == policy
        with pytest.raises(PolicyViolation, match="no gate verdict"):
            store.promotion.set_alias(name, "champion", 1)
        failed = GateRecord(passed=False, verdict_json="{}", recorded_at=1, recorded_by="ci")
        store.model_versions.record_gate(name, 1, failed)
        with pytest.raises(PolicyViolation, match="failed its gate"):
            store.promotion.set_alias(name, "champion", 1)
        passed = GateRecord(passed=True, verdict_json='{"ok": 1}', recorded_at=2, recorded_by="ci")
        assert store.model_versions.record_gate(name, 1, passed).gate == passed
        with pytest.raises(PolicyViolation, match="not approved"):
            store.promotion.set_alias(name, "champion", 1)
        with pytest.raises(PolicyViolation, match="cannot approve it"):
            store.promotion.approve(name, 1, approver="ana")
        assert store.promotion.approve(name, 1, approver="bo").approved_by == "bo"
        assert store.promotion.set_alias(name, "champion", 1) is None
        assert store.promotion.set_alias(name, "challenger", 1) is None  # unprotected

    def test_deletes_in_use_need_force(self, store: MetadataStore, name: str) -> None:
        store.models.create_model(name)
        self.register(store, name)
        self.register(store, name)
        store.promotion.set_alias(name, "champion", 1)
        with pytest.raises(Conflict, match="in use by alias @champion"):
            store.model_versions.delete_version(name, 1)
        assert store.model_versions.delete_version(name, 2).version == 2
        with pytest.raises(Conflict, match="aliases in use"):
            store.models.delete_model(name)
        assert store.model_versions.delete_version(name, 1, force=True).aliases == ("champion",)
        assert store.models.get_model(name).aliases == {}
        store.models.delete_model(name)
        with pytest.raises(NotFound):
            store.models.get_model(name)

    def test_search_models_pages_by_name(self, store: MetadataStore, name: str) -> None:
        for suffix in ("a", "b", "c"):
            store.models.create_model(f"{name}-{suffix}")
        first = store.models.search_models(name_like=f"{name}-%", limit=2)
        assert [m.name for m in first.items] == [f"{name}-a", f"{name}-b"]
        rest = store.models.search_models(
            name_like=f"{name}-%", limit=2, page_token=first.next_page_token
        )
        assert [m.name for m in rest.items] == [f"{name}-c"] and rest.next_page_token is None
