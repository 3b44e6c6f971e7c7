"""A deployment as the model server serves it at one moment: its definition, and for each
route the loaded model version that answers it.

A view is never changed in place. When the definition or a route's version changes, the
watcher builds a new view and replaces the old one between two requests; a request reads
the view once, after its body has arrived, and picks its route from that view.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from noria.deployments.routing import choose_route
from noria.domain.deployments import Deployment, DeploymentStatus, Route, RouteRole
from noria.errors import NotFound
from noria.serving.errors import DeploymentPaused
from noria.serving.state import ModelEndpoint

EndpointKey = tuple[str, int, bool]  # (registered model, version, shadow-only)


def endpoint_key(endpoint: ModelEndpoint, *, shadow: bool) -> EndpointKey:
    """Routes serving the same version share one loaded model (and its batcher); a shadow's
    copy is kept apart from live ones, on threads of its own."""
    source = endpoint.served.source
    return (source.registered_name or "", source.version or 0, shadow)


@dataclass(frozen=True, slots=True)
class RouteEndpoint:
    """One route of a deployment and the loaded version answering it."""

    route: Route
    endpoint: ModelEndpoint

    @property
    def role(self) -> RouteRole:
        return self.route.role

    @property
    def version(self) -> int | None:
        return self.endpoint.served.version

    @property
    def key(self) -> EndpointKey:
        return endpoint_key(self.endpoint, shadow=self.role is RouteRole.SHADOW)


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """``deployment`` and one :class:`RouteEndpoint` per route, in the deployment's order."""

    deployment: Deployment
    routes: tuple[RouteEndpoint, ...]

    @property
    def name(self) -> str:
        return self.deployment.name

    @property
    def paused(self) -> bool:
        return self.deployment.status is DeploymentStatus.PAUSED

    @property
    def primary(self) -> RouteEndpoint:
        return next(taken for taken in self.routes if taken.role is RouteRole.PRIMARY)

    @property
    def shadows(self) -> tuple[RouteEndpoint, ...]:
        return tuple(taken for taken in self.routes if taken.role is RouteRole.SHADOW)

    def endpoints(self) -> dict[EndpointKey, ModelEndpoint]:
        """The distinct loaded versions behind the routes."""
        return {taken.key: taken.endpoint for taken in self.routes}

    def check_active(self) -> None:
        """DeploymentPaused (503) while the deployment is paused."""
        if self.paused:
            raise DeploymentPaused(
                f"deployment {self.name!r} is paused, so it answers no predictions; resume it "
                f"with `noria deploy resume {self.name}` (this server picks that up by itself)"
            )

    def pick(self, request_key: str | None, random_draw: float) -> RouteEndpoint:
        """The primary or canary route answering a request (see noria.deployments.routing)."""
        chosen = choose_route(self.deployment, request_key, random_draw)
        return self._taken(chosen)

    def answering_version(self, version: str) -> RouteEndpoint:
        """The primary or canary route serving ``version`` (Open Inference's
        ``/versions/{v}/infer``); NotFound naming the versions served otherwise."""
        answering = [taken for taken in self.routes if taken.role is not RouteRole.SHADOW]
        for taken in answering:
            if str(taken.version) == version:
                return taken
        served = ", ".join(f"{t.version} ({t.role.value})" for t in answering)
        raise NotFound(
            f"deployment {self.name!r} does not serve version {version!r}; its answering "
            f"versions are {served}: ask for one of them, or leave the version out"
        )

    def with_status(self, status: DeploymentStatus) -> DeploymentView:
        return replace(self, deployment=replace(self.deployment, status=status))

    def same_as(self, other: DeploymentView) -> bool:
        """Whether ``other`` serves the same definition with the same loaded versions."""
        return self.deployment == other.deployment and [
            (taken.route, id(taken.endpoint)) for taken in self.routes
        ] == [(taken.route, id(taken.endpoint)) for taken in other.routes]

    def describe(self) -> str:
        """One line for logs: ``primary credit v2 90%, canary credit v3 10%, shadow credit v4``."""
        parts = []
        for taken in self.routes:
            share = "" if taken.role is RouteRole.SHADOW else f" {taken.route.percent:g}%"
            parts.append(
                f"{taken.role.value} {taken.route.model_name} v{taken.version}{share}"
                f" ({taken.route.model_uri})"
            )
        status = " [paused]" if self.paused else ""
        return f"{', '.join(parts)}{status}"

    def _taken(self, route: Route) -> RouteEndpoint:
        for taken in self.routes:
            if taken.route.model_uri == route.model_uri:
                return taken
        # A view is built with every route of its deployment: reaching this is a bug.
        raise RuntimeError(f"deployment {self.name!r} has no loaded route for {route.model_uri}")
