"""Pure route changes: add the challenger as a shadow or a canary, or take it away."""

from __future__ import annotations

from noria.domain.deployments import Deployment, Route, RouteRole, split_traffic
from noria.errors import InvalidArgument

MODES = ("shadow", "canary")


def check_mode(mode: str, traffic: float) -> RouteRole:
    if mode not in MODES:
        raise InvalidArgument(f"Challenge mode {mode!r} is unknown: use shadow or canary.")
    if mode == "canary" and (
        isinstance(traffic, bool) or not isinstance(traffic, int | float) or not 0 < traffic < 100
    ):
        raise InvalidArgument(
            f"Canary traffic {traffic!r} is not a percentage above 0 and below 100: e.g. 10."
        )
    return RouteRole(mode)


def with_challenger(
    deployment: Deployment, uri: str, role: RouteRole, traffic: float
) -> tuple[Route, ...] | None:
    """The routes with ``uri`` as a shadow or a ``traffic`` % canary; None when it is one."""
    for route in deployment.routes:
        same = route.model_uri == uri and route.role is role
        if same and (role is RouteRole.SHADOW or route.percent == float(traffic)):
            return None
    kept = _without(deployment, uri)
    canaries = {route.model_uri: route.percent for route in kept.canaries}
    shadows = kept.shadows
    if role is RouteRole.CANARY:
        canaries[uri] = float(traffic)
    else:
        shadows = (*shadows, Route(uri, RouteRole.SHADOW))
    return split_traffic(deployment.name, deployment.primary.model_uri, canaries) + shadows


def without_route(deployment: Deployment, uri: str) -> tuple[Route, ...]:
    """The routes less ``uri``; a canary's share goes back to the primary."""
    return _without(deployment, uri).routes


def _without(deployment: Deployment, uri: str) -> Deployment:
    if deployment.primary.model_uri == uri:
        raise InvalidArgument(
            f"{uri} is the primary of deployment {deployment.name!r}: a challenger must be a "
            "shadow or a canary beside it."
        )
    canaries = {r.model_uri: r.percent for r in deployment.canaries if r.model_uri != uri}
    shadows = tuple(r for r in deployment.shadows if r.model_uri != uri)
    routes = split_traffic(deployment.name, deployment.primary.model_uri, canaries) + shadows
    return deployment.with_routes(routes)
