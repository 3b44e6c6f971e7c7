"""Serving deployments: load each route's version at startup, then follow the definition.

Every ``watch_interval_s`` seconds each served deployment is read again from the store, with
the version each route resolves to now. When something changed (traffic, status, routes
after a promotion, or an alias a route follows), a new
:class:`~noria.serving.deployment_view.DeploymentView` is built: versions already loaded are
reused, new ones are loaded and warmed in a worker thread, and the view is swapped in
between two requests. Versions no route uses any more finish what they took, then close.

Nothing that goes wrong while following stops serving:

- a route's new version cannot be loaded: the route keeps its old version, and the failure is
  logged, counted and shown in ``GET /v1/deployments`` (tried again later, as for models);
- a route the server did not serve yet (a new canary) cannot be loaded: the new definition
  waits (its pause or resume still applies at once), the previous one keeps serving;
- the store cannot be reached, or the deployment was deleted: the last definition keeps
  serving; the problem is logged once and counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass

from noria.client import Client
from noria.domain.deployments import Deployment, Route, RouteRole
from noria.errors import NoriaError, NotFound
from noria.serving.config import ServedModelConfig
from noria.serving.deployment_check import Versions, check_resolved
from noria.serving.deployment_view import DeploymentView, EndpointKey, RouteEndpoint
from noria.serving.endpoints import hide_info, show_info, start_endpoint
from noria.serving.loading import ServedModel, load_served_model, version_source
from noria.serving.retries import RetryBook
from noria.serving.state import ModelEndpoint, ServingState, SwapError
from noria.serving.watching import Watch

logger = logging.getLogger("noria.serving")


def route_endpoint_name(deployment: str, route: Route) -> str:
    """The name a route's version is served and measured under: ``credit-api/credit``, and
    ``credit-api/shadow/credit`` for a shadow (its series stay apart from a live route's)."""
    shadow = "shadow/" if route.role is RouteRole.SHADOW else ""
    return f"{deployment}/{shadow}{route.model_name}"


@dataclass(frozen=True, slots=True)
class Executors:
    live: Executor  # primaries and canaries, with the plain models
    shadow: Executor  # shadows only: a slow shadow never holds a thread a live answer needs


class DeploymentWatcher:
    """Opens ``state.config.deployments`` through ``client`` and follows them.

    :meth:`open` them in the app's lifespan, :meth:`start` the watch once serving, and
    :meth:`aclose` it at shutdown (the batchers are closed by the app)."""

    def __init__(
        self,
        state: ServingState,
        client: Client,
        *,
        executors: Executors,
        interval_s: float,
        warm_up: bool = True,
    ) -> None:
        self._state = state
        self._client = client
        self._executors = executors
        self._warm_up = warm_up
        self._configs = {served.name: served for served in state.config.deployments}
        self._retries: RetryBook[tuple[str, str]] = RetryBook(interval_s)
        self._watch_errors: dict[str, str] = {}
        self._watch = Watch(self.check, interval_s, "following the served deployments")

    async def open(self) -> None:
        """Load every deployment's routes; any route that cannot be served fails startup."""
        for name in self._configs:
            deployment, versions = await asyncio.to_thread(self._fetch, name)
            check_resolved(deployment, versions)
            view = await self._build(deployment, versions, None)  # raises what cannot load
            if view is not None:
                self._publish(view, None)

    def start(self) -> None:
        if self._configs:
            self._watch.start()

    async def aclose(self) -> None:
        """Stop following; versions being retired finish their requests first."""
        await self._watch.aclose()

    async def check(self) -> None:
        """Read every served deployment once, and apply what changed."""
        for name in self._configs:
            await self._refresh(name)

    def _fetch(self, name: str) -> tuple[Deployment, Versions]:
        """The definition and each route's version now (in a worker thread: maybe remote)."""
        deployments = self._client.deployments
        deployment = deployments.get(name)
        return deployment, deployments.resolve(deployment)

    async def _refresh(self, name: str) -> None:
        previous = self._state.deployments[name]
        try:
            deployment, versions = await asyncio.to_thread(self._fetch, name)
        except NoriaError as exc:
            self._watch_failed(name, exc.message)
            return
        if self._watch_errors.pop(name, None) is not None:
            logger.info("deployment %r can be read again", name)
        view = await self._build(deployment, versions, previous)
        if view is None:  # a new route cannot be served yet: only the status applies
            view = previous.with_status(deployment.status)
        if not view.same_as(previous):
            self._publish(view, previous)

    async def _build(
        self, deployment: Deployment, versions: Versions, previous: DeploymentView | None
    ) -> DeploymentView | None:
        """The view of ``deployment``, loading the versions not served yet. None when a route
        that ``previous`` lacks cannot be served; raises instead when there is no previous."""
        loaded = {} if previous is None else previous.endpoints()
        known = set() if previous is None else {t.route.model_uri for t in previous.routes}
        # New routes first: one that cannot be served stops the build before others load.
        chosen: dict[str, ModelEndpoint] = {}
        for route in sorted(deployment.routes, key=lambda r: r.model_uri in known):
            try:
                endpoint = await self._endpoint(deployment.name, route, versions, loaded, previous)
            except BaseException:  # at startup, or cancelled: close what this build loaded
                self._retire_unused(loaded, previous)
                raise
            if endpoint is None:
                self._retire_unused(loaded, previous)
                return None
            chosen[route.model_uri] = endpoint
        self._forget_errors(deployment)
        routes = tuple(RouteEndpoint(r, chosen[r.model_uri]) for r in deployment.routes)
        return DeploymentView(deployment, routes)

    async def _endpoint(
        self,
        name: str,
        route: Route,
        versions: Versions,
        loaded: dict[EndpointKey, ModelEndpoint],
        previous: DeploymentView | None,
    ) -> ModelEndpoint | None:
        """The loaded version for ``route`` (loading it when needed; new loads are added to
        ``loaded``), its old version when the new one cannot be served, or None."""
        version = versions.get(route.model_uri)
        shadow = route.role is RouteRole.SHADOW
        found = None if version is None else loaded.get((route.model_name, version, shadow))
        if found is not None:
            self._route_ok(name, route)
            return found
        if version is not None and not self._retries.waiting((name, route.model_uri), version):
            try:
                found = await self._load(name, route, version)
            except Exception as exc:  # any failure to load it: keep serving (or fail startup)
                if previous is None:
                    raise
                self._route_failed(name, route, version, exc)
            else:
                loaded[(route.model_name, version, shadow)] = found
                self._route_ok(name, route)
                return found
        elif version is None:
            self._watch_failed(
                name, f"route {route.model_uri} resolves to no version", route=route.model_uri
            )
        if previous is None:
            raise NotFound(f"deployment {name!r}: route {route.model_uri} cannot be served")
        kept = next((t for t in previous.routes if t.route.model_uri == route.model_uri), None)
        return None if kept is None else kept.endpoint

    async def _load(self, name: str, route: Route, version: int) -> ModelEndpoint:
        started = time.perf_counter()
        served = await asyncio.to_thread(self._load_version, name, route, version)
        shadow = route.role is RouteRole.SHADOW
        executor = self._executors.shadow if shadow else self._executors.live
        endpoint = start_endpoint(self._state, served, executor, shadow=shadow)
        logger.info(
            "deployment %r: loaded %s version %d for its %s route in %.2f s",
            name,
            route.model_name,
            version,
            route.role.value,
            time.perf_counter() - started,
        )
        return endpoint

    def _load_version(self, name: str, route: Route, version: int) -> ServedModel:
        registered = self._client.registry.get_version(route.model_name, version)
        served = self._configs[name]
        pinned = ServedModelConfig(
            uri=f"models:/{route.model_name}/{version}",
            batching=served.batching,
            proba=served.proba,
        )
        source = version_source(pinned, self._client, registered)
        return load_served_model(
            source, warm_up=self._warm_up, name=route_endpoint_name(name, route)
        )

    def _publish(self, view: DeploymentView, previous: DeploymentView | None) -> None:
        """Serve ``view`` from the next request on; retire the versions it no longer uses."""
        self._state.deployments[view.name] = view
        kept = {id(endpoint) for endpoint in view.endpoints().values()}
        for endpoint in view.endpoints().values():
            show_info(self._state, endpoint)
        if previous is None:
            logger.info("deployment %r serves %s", view.name, view.describe())
            return
        for endpoint in previous.endpoints().values():
            if id(endpoint) not in kept:
                self._retire(endpoint)
        for endpoint in view.endpoints().values():
            if all(endpoint is not old for old in previous.endpoints().values()):
                self._state.metrics.swaps.labels(endpoint.name, endpoint.version_label).inc()
        logger.info(
            "deployment %r (revision %d) now serves %s",
            view.name,
            view.deployment.revision,
            view.describe(),
        )

    def _retire(self, endpoint: ModelEndpoint) -> None:
        hide_info(self._state, endpoint)
        self._watch.retire(endpoint)

    def _retire_unused(
        self, loaded: dict[EndpointKey, ModelEndpoint], previous: DeploymentView | None
    ) -> None:
        """Close versions loaded for a definition that cannot be applied yet."""
        serving = set() if previous is None else {id(e) for e in previous.endpoints().values()}
        for endpoint in loaded.values():
            if id(endpoint) not in serving:
                self._retire(endpoint)

    def _route_ok(self, name: str, route: Route) -> None:
        self._retries.clear((name, route.model_uri))
        if self._watch_errors.pop(f"{name} {route.model_uri}", None) is not None:
            logger.info("deployment %r: %s resolves again", name, route.model_uri)
        self._state.route_errors.pop((name, route.model_uri), None)

    def _route_failed(self, name: str, route: Route, version: int, exc: Exception) -> None:
        message = exc.message if isinstance(exc, NoriaError) else f"{type(exc).__name__}: {exc}"
        pause = self._retries.failed((name, route.model_uri), version)
        self._state.route_errors[(name, route.model_uri)] = SwapError(
            version, message, time.time_ns() // 1_000_000
        )
        served_as = route_endpoint_name(name, route)
        self._state.metrics.swap_failures.labels(served_as, str(version)).inc()
        logger.error(
            "deployment %r: %s route %s moved to version %d, which cannot be served (%s); "
            "the route keeps what it served, next try in %.1f s",
            name,
            route.role.value,
            route.model_uri,
            version,
            message,
            pause,
        )

    def _forget_errors(self, deployment: Deployment) -> None:
        """Drop the errors of routes the deployment no longer has."""
        uris = {route.model_uri for route in deployment.routes}
        for key in [k for k in self._state.route_errors if k[0] == deployment.name]:
            if key[1] not in uris:
                del self._state.route_errors[key]
                self._retries.clear(key)

    def _watch_failed(self, name: str, message: str, *, route: str | None = None) -> None:
        """Count a failed look; log it once per new problem, not on every look."""
        self._state.metrics.deployment_watch_errors.labels(name).inc()
        key = name if route is None else f"{name} {route}"
        if self._watch_errors.get(key) != message:
            keeps = "its last definition" if route is None else "that route's last version"
            logger.warning(
                "deployment %r cannot be followed (%s); it keeps serving %s", name, message, keeps
            )
        self._watch_errors[key] = message
