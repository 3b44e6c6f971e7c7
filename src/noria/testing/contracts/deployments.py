"""Contract every deployment repo must pass.

Subclass :class:`DeploymentRepoContract` in a ``Test*`` class and provide a ``store`` fixture
yielding an initialized metadata store; each test uses its own deployment and model names.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from noria.domain.deployments import Deployment, DeploymentStatus, Route, RouteRole
from noria.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from noria.ports.metadata import MetadataStore


class DeploymentRepoContract:
    @pytest.fixture
    def ns(self) -> str:
        return uuid.uuid4().hex[:10]

    @staticmethod
    def deployment(ns: str, suffix: str = "api", *, model: str = "credit") -> Deployment:
        return Deployment(
            name=f"{ns}-{suffix}",
            routes=(
                Route(f"models:/{ns}-{model}@champion", RouteRole.PRIMARY, 87.5),
                Route(f"models:/{ns}-{model}@challenger", RouteRole.CANARY, 12.5),
                Route(f"models:/{ns}-{model}/4", RouteRole.SHADOW),
            ),
            description="credit scoring",
            sticky_key="customer_id",
            created_by="ana",
        )

    def test_create_and_get_keep_every_field_in_order(self, store: MetadataStore, ns: str) -> None:
        wanted = self.deployment(ns)
        created = store.deployments.create(wanted)
        assert (created.name, created.routes, created.description) == (
            wanted.name,
            wanted.routes,
            "credit scoring",
        )
        assert (created.sticky_key, created.status, created.created_by) == (
            "customer_id",
            DeploymentStatus.ACTIVE,
            "ana",
        )
        assert created.revision == 1
        assert created.created_at > 0 and created.updated_at == created.created_at
        assert store.deployments.get(wanted.name) == created
        with pytest.raises(AlreadyExists, match=wanted.name):
            store.deployments.create(wanted)
        with pytest.raises(NotFound, match=f"Deployment '{ns}-missing' not found"):
            store.deployments.get(f"{ns}-missing")

    def test_update_replaces_routes_and_checks_the_revision(
        self, store: MetadataStore, ns: str
    ) -> None:
        created = store.deployments.create(self.deployment(ns))
        routes = (
            Route(f"models:/{ns}-credit/5", RouteRole.PRIMARY, 100),
            Route(f"models:/{ns}-credit@challenger", RouteRole.SHADOW),
        )
        changed = replace(
            created.with_routes(routes), sticky_key=None, status=DeploymentStatus.PAUSED
        )
        updated = store.deployments.update(changed)
        assert (updated.routes, updated.sticky_key, updated.status) == (
            routes,
            None,
            DeploymentStatus.PAUSED,
        )
        assert updated.revision == 2 and updated.updated_at >= created.updated_at
        assert updated.created_at == created.created_at
        assert store.deployments.get(created.name) == updated
        with pytest.raises(Conflict, match="changed since it was read"):
            store.deployments.update(changed)  # still carries revision 1
        with pytest.raises(NotFound):
            store.deployments.update(replace(changed, name=f"{ns}-missing"))

    def test_concurrent_updates_of_one_revision_let_one_win(
        self, store: MetadataStore, ns: str
    ) -> None:
        created = store.deployments.create(self.deployment(ns))

        def shift(percent: float) -> str:
            routes = (
                replace(created.routes[0], percent=100 - percent),
                replace(created.routes[1], percent=percent),
                created.routes[2],
            )
            try:
                store.deployments.update(created.with_routes(routes))
            except Conflict:
                return "conflict"
            return "updated"

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(shift, [10, 20, 30, 40]))
        assert sorted(outcomes) == ["conflict", "conflict", "conflict", "updated"]
        assert store.deployments.get(created.name).revision == 2

    def test_list_by_name_pages_and_filters_by_model(self, store: MetadataStore, ns: str) -> None:
        for suffix in ("c", "a", "b"):
            store.deployments.create(self.deployment(ns, suffix))
        store.deployments.create(self.deployment(ns, "other", model="fraud"))
        first = store.deployments.list_deployments(model=f"{ns}-credit", limit=2)
        assert [d.name for d in first.items] == [f"{ns}-a", f"{ns}-b"]
        rest = store.deployments.list_deployments(
            model=f"{ns}-credit", limit=2, page_token=first.next_page_token
        )
        assert [d.name for d in rest.items] == [f"{ns}-c"] and rest.next_page_token is None
        fraud = store.deployments.list_deployments(model=f"{ns}-fraud").items
        assert [d.name for d in fraud] == [f"{ns}-other"]
        assert store.deployments.list_deployments(model=f"{ns}-none").items == []
        with pytest.raises(InvalidArgument, match="page token"):
            store.deployments.list_deployments(page_token="not-a-token")

    def test_delete_returns_what_was_stored(self, store: MetadataStore, ns: str) -> None:
        created = store.deployments.create(self.deployment(ns))
        assert store.deployments.delete(created.name) == created
        with pytest.raises(NotFound):
            store.deployments.get(created.name)
        with pytest.raises(NotFound):
            store.deployments.delete(created.name)
        assert store.deployments.list_deployments(model=f"{ns}-credit").items == []
        # The name is free again.
        assert store.deployments.create(self.deployment(ns)).revision == 1
