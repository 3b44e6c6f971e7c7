"""Deployments as users see them: every change audited, lineage to the versions they serve.

>>> client.deployments.create("credit-api", model="models:/credit@champion",
...                           canaries={"models:/credit@challenger": 10})
>>> client.deployments.promote("credit-api")   # @champion moves to the challenger's version
>>> client.deployments.rollback("credit-api")  # ... and back
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from noria.audit import AuditLog
from noria.deployments.alias_history import ROLLBACK_MARK, rollback_target
from noria.deployments.spec_yaml import parse_deployment
from noria.domain.audit import AuditEvent, AuditQuery
from noria.domain.deployments import (
    Deployment,
    DeploymentStatus,
    PromotionPolicy,
    Route,
    RouteRole,
    split_traffic,
)
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.domain.paging import Page
from noria.errors import Conflict, InvalidArgument, NotFound
from noria.lineage import LineageService
from noria.ports.metadata import MetadataStore

if TYPE_CHECKING:
    from noria.domain.registry import ModelVersion
    from noria.registry.service import ModelRegistry

_EVENTS_PAGE = 500
_LIST_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Promotion:
    """What ``promote`` did: the version the primary now serves, and how it got there."""

    deployment: Deployment
    promoted: Route  # the canary or shadow route that was promoted (now gone)
    version: ModelVersion  # what the primary serves now
    previous_version: int | None  # what it served before (None: it did not resolve)
    moved_alias: str | None  # the primary's alias that moved, or None when routes were rewritten


@dataclass(frozen=True, slots=True)
class Rollback:
    deployment: Deployment
    model: str
    alias: str
    from_version: int | None
    to_version: int


def _model_ref(name: str) -> EntityRef:
    return EntityRef(EntityKind.REGISTERED_MODEL, name)


def _state(deployment: Deployment) -> dict[str, Any]:
    """The audited form of a deployment's declared parts."""
    return {
        "routes": [
            {"model": route.model_uri, "role": route.role.value, "percent": route.percent}
            for route in deployment.routes
        ],
        "sticky_key": deployment.sticky_key,
        "status": deployment.status.value,
        "promotion": None if deployment.promotion is None else deployment.promotion.to_dict(),
    }


class DeploymentService:
    """Deployments over one metadata store, promoting and rolling back through the registry
    (so a model's approval policy applies to every alias a promotion moves)."""

    def __init__(
        self,
        metadata: MetadataStore,
        registry: ModelRegistry,
        lineage: LineageService,
        audit: AuditLog,
        *,
        user: str,
    ) -> None:
        self._repo = metadata.deployments
        self._registry = registry
        self._lineage = lineage
        self._audit = audit
        self._user = user

    # -- records -------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        model: str,
        canaries: Mapping[str, float] | None = None,
        shadows: Sequence[str] = (),
        sticky_key: str | None = None,
        description: str = "",
        promotion: PromotionPolicy | None = None,
    ) -> Deployment:
        """A deployment serving ``model``, with canaries at their percentages (the primary
        gets the rest) and shadows that see a copy of every request; ``promotion`` says when
        a ``challenger`` route replaces the primary (see :mod:`noria.promotion`)."""
        routes = split_traffic(name, model, dict(canaries or {}))
        routes += tuple(Route(uri, RouteRole.SHADOW) for uri in shadows)
        deployment = Deployment(
            name=name,
            routes=routes,
            sticky_key=sticky_key,
            description=description,
            promotion=promotion,
        )
        return self.create_deployment(deployment)

    def create_from_yaml(self, text: str, *, source: str = "deployment.yaml") -> Deployment:
        """A deployment from YAML (see :mod:`noria.deployments.spec_yaml`)."""
        return self.create_deployment(parse_deployment(text, source=source))

    def create_deployment(self, deployment: Deployment) -> Deployment:
        """Store ``deployment`` once every route resolves to a registered version."""
        versions = self._resolve_all(deployment)
        created = self._repo.create(replace(deployment, created_by=self._user))
        self._audit.record("deployment.created", created.entity(), after=_state(created))
        self._record_lineage(created, versions)
        return created

    def get(self, name: str) -> Deployment:
        return self._repo.get(name)

    def list_deployments(
        self, *, model: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Deployment]:
        """By name; with ``model``, only those with a route to that registered model."""
        return self._repo.list_deployments(model=model, limit=limit, page_token=page_token)

    def set_traffic(self, name: str, canaries: Mapping[str, float]) -> Deployment:
        """New percentages for canary routes (0 removes one); the primary gets the rest."""
        current = self._repo.get(name)
        shares = {route.model_uri: route.percent for route in current.canaries}
        for uri, percent in canaries.items():
            if current.route(uri).role is not RouteRole.CANARY:
                raise InvalidArgument(
                    f"Route {uri} of deployment {name!r} is a {current.route(uri).role.value}, "
                    "not a canary: only canaries take a percentage of the traffic."
                )
            shares[uri] = percent
        kept = {uri: percent for uri, percent in shares.items() if percent != 0}
        routes = split_traffic(name, current.primary.model_uri, kept) + current.shadows
        return self._update(current, current.with_routes(routes), "deployment.traffic_set")

    def set_promotion_policy(self, name: str, policy: PromotionPolicy | None) -> Deployment:
        """When a challenger replaces the primary (None: never on its own)."""
        current = self._repo.get(name)
        return self._update(
            current, replace(current, promotion=policy), "deployment.promotion_policy_set"
        )

    def set_routes(
        self, current: Deployment, routes: tuple[Route, ...], *, action: str
    ) -> Deployment:
        """Replace the routes of ``current`` as read (``Conflict`` if it changed since),
        auditing the change as ``action``."""
        return self._update(current, current.with_routes(routes), action)

    def set_status(self, name: str, status: DeploymentStatus) -> Deployment:
        """Pause a deployment (the model server answers 503) or make it active again."""
        current = self._repo.get(name)
        return self._update(
            current, replace(current, status=DeploymentStatus(status)), "deployment.status_set"
        )

    def delete(self, name: str) -> Deployment:
        deleted = self._repo.delete(name)
        self._audit.record("deployment.deleted", deleted.entity(), before=_state(deleted))
        return deleted

    # -- what is served ------------------------------------------------------------

    def resolve(self, deployment: Deployment) -> dict[str, int | None]:
        """Each route's model URI → the version it serves now (None: it does not resolve,
        e.g. its alias was deleted)."""
        served: dict[str, int | None] = {}
        for route in deployment.routes:
            try:
                served[route.model_uri] = self._registry.resolve(route.model_uri).version
            except NotFound:
                served[route.model_uri] = None
        return served

    def versions_in_use(self, model_name: str) -> dict[int, list[str]]:
        """Versions of ``model_name`` that deployments serve now → those deployments' names.

        The registry asks this before deleting a version: a served version needs ``force``.
        """
        used: dict[int, list[str]] = {}
        token: str | None = None
        while True:
            page = self._repo.list_deployments(model=model_name, limit=_LIST_PAGE, page_token=token)
            for deployment in page.items:
                for uri, version in self.resolve(deployment).items():
                    route = deployment.route(uri)
                    if version is None or route.model_name != model_name:
                        continue
                    names = used.setdefault(version, [])
                    if deployment.name not in names:
                        names.append(deployment.name)
            if page.next_page_token is None:
                return used
            token = page.next_page_token

    # -- promotion -----------------------------------------------------------------

    def promote(self, name: str, route: str | None = None) -> Promotion:
        """Make a canary or shadow route the primary.

        When the primary follows an alias of the same model (``models:/credit@champion``),
        the alias moves to the promoted version (the model's approval policy applies), and
        the promoted route goes. Otherwise the primary is rewritten to pin that version.
        """
        current = self._repo.get(name)
        candidate = self._candidate(current, route)
        version = self._registry.resolve(candidate.model_uri)
        primary = current.primary
        previous = self.resolve(current)[primary.model_uri]
        moved_alias = None
        if primary.alias is not None and candidate.model_name == primary.model_name:
            # The alias moves first: a policy refusal then leaves everything as it was, and
            # a retry after a failed route update finds the alias moved and only drops the route.
            if previous != version.version:
                self._registry.set_alias(primary.model_name, primary.alias, version.version)
            moved_alias = primary.alias
            new_primary = replace(primary, percent=primary.percent + candidate.percent)
        else:
            new_primary = Route(version.uri, RouteRole.PRIMARY, primary.percent + candidate.percent)
        others = tuple(r for r in current.routes if r not in (primary, candidate))
        updated = self._update(
            current, current.with_routes((new_primary, *others)), "deployment.promoted"
        )
        return Promotion(updated, candidate, version, previous, moved_alias)

    def rollback(self, name: str) -> Rollback:
        """Move the primary's alias back to the version it held before its last move.

        Repeated rollbacks keep going back; ``Conflict`` when there is no earlier version.
        """
        current = self._repo.get(name)
        primary = current.primary
        alias = primary.alias
        if alias is None:
            raise Conflict(
                f"Deployment {name!r} pins its primary to {primary.model_uri}, and a rollback "
                "moves the primary's alias back: serve an alias (e.g. models:/"
                f"{primary.model_name}@champion) to roll back, or promote another route."
            )
        model = primary.model_name
        target = rollback_target(model, alias, self._model_events_oldest_first(model))
        left = self._registry.set_alias(model, alias, target)
        moved = {"alias": alias, "deployment": name}
        self._audit.record(
            ROLLBACK_MARK,
            _model_ref(model),
            before={**moved, "version": left},
            after={**moved, "version": target},
        )
        self._audit.record(
            "deployment.rolled_back",
            current.entity(),
            before={"model": model, "alias": alias, "version": left},
            after={"model": model, "alias": alias, "version": target},
        )
        self._record_lineage(current, {primary.model_uri: target})
        return Rollback(current, model, alias, left, target)

    # -- internals -----------------------------------------------------------------

    def _candidate(self, deployment: Deployment, uri: str | None) -> Route:
        if uri is not None:
            chosen = deployment.route(uri)
            if chosen.role is RouteRole.PRIMARY:
                raise InvalidArgument(
                    f"{uri} is already the primary of deployment {deployment.name!r}: "
                    "promote a canary or a shadow."
                )
            return chosen
        others = [r for r in deployment.routes if r.role is not RouteRole.PRIMARY]
        if len(others) == 1:
            return others[0]
        if not others:
            raise InvalidArgument(
                f"Deployment {deployment.name!r} has only its primary; add a canary or a "
                "shadow to promote."
            )
        choices = ", ".join(r.model_uri for r in others)
        raise InvalidArgument(
            f"Deployment {deployment.name!r} has several routes to promote ({choices}): "
            "name one with --route."
        )

    def _resolve_all(self, deployment: Deployment) -> dict[str, int]:
        """Every route's version now; the registry's NotFound names a route that does not."""
        return {
            route.model_uri: self._registry.resolve(route.model_uri).version
            for route in deployment.routes
        }

    def _update(self, current: Deployment, changed: Deployment, action: str) -> Deployment:
        versions = self._resolve_all(changed)
        updated = self._repo.update(changed)
        self._audit.record(action, updated.entity(), before=_state(current), after=_state(updated))
        self._record_lineage(updated, versions)
        return updated

    def _record_lineage(self, deployment: Deployment, versions: Mapping[str, int]) -> None:
        edges = []
        for uri, version in versions.items():
            model = deployment.route(uri).model_name
            served = EntityRef(EntityKind.MODEL_VERSION, f"{model}/{version}")
            edges.append(LineageEdge(served, Relation.DEPLOYED_AS, deployment.entity()))
        self._lineage.record_many(edges)

    def _model_events_oldest_first(self, model: str) -> list[AuditEvent]:
        query = AuditQuery(entity=_model_ref(model))
        events: list[AuditEvent] = []
        token: str | None = None
        while True:
            page = self._audit.events(query, limit=_EVENTS_PAGE, page_token=token)
            events.extend(page.items)
            if page.next_page_token is None:
                return events[::-1]
            token = page.next_page_token
