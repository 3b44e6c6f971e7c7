"""A deployment's view in the server: picking routes, the sticky key, pausing, comparing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from noria.deployments.routing import choose_route
from noria.domain.deployments import Deployment, DeploymentStatus, Route, RouteRole
from noria.errors import NotFound
from noria.serving.config import ServedModelConfig
from noria.serving.deployment_view import DeploymentView, RouteEndpoint
from noria.serving.errors import DeploymentPaused
from noria.serving.loading import ModelSource
from noria.serving.payloads import MISSING, Payload, native_payload
from noria.serving.routed import sticky_value

DEPLOYMENT = Deployment(
    name="credit-api",
    routes=(
        Route("models:/credit@champion", RouteRole.PRIMARY, 70),
        Route("models:/credit@challenger", RouteRole.CANARY, 30),
        Route("models:/credit/4", RouteRole.SHADOW),
    ),
    sticky_key="customer_id",
)
VERSIONS = {"models:/credit@champion": 2, "models:/credit@challenger": 3, "models:/credit/4": 4}


@dataclass(frozen=True)
class Served:
    """What a view reads of a loaded model: its registered name and version."""

    source: ModelSource

    @property
    def version(self) -> int | None:
        return self.source.version


@dataclass(frozen=True)
class Endpoint:
    served: Served


def endpoint(version: int) -> Any:
    config = ServedModelConfig(uri=f"models:/credit/{version}")
    return Endpoint(Served(ModelSource(config, Path("."), version, "credit")))


def view(deployment: Deployment = DEPLOYMENT) -> DeploymentView:
    routes = tuple(
        RouteEndpoint(route, endpoint(VERSIONS[route.model_uri])) for route in deployment.routes
    )
    return DeploymentView(deployment, routes)


def test_the_route_picked_is_the_routing_rules_choice() -> None:
    served = view()
    for key in ("c1", "c2", "c3", "c4", "c5", "c6"):
        expected = choose_route(DEPLOYMENT, key, 0.0)
        assert served.pick(key, 0.0).route == expected
        assert served.pick(key, 0.99).route == expected  # a key wins over the draw
    assert served.pick(None, 0.5).role is RouteRole.PRIMARY
    assert served.pick(None, 0.8).role is RouteRole.CANARY
    assert served.pick(None, 0.8).version == 3
    assert [taken.version for taken in served.shadows] == [4]
    assert served.primary.version == 2


def test_a_version_can_be_asked_for_among_the_answering_routes() -> None:
    served = view()
    assert served.answering_version("3").role is RouteRole.CANARY
    with pytest.raises(NotFound, match=r"does not serve version '4'.*2 \(primary\), 3 \(canary\)"):
        served.answering_version("4")  # the shadow's version never answers


def test_a_paused_deployment_refuses_with_the_command_to_resume() -> None:
    view().check_active()
    paused = view().with_status(DeploymentStatus.PAUSED)
    assert paused.paused and "[paused]" in paused.describe()
    with pytest.raises(DeploymentPaused, match="noria deploy resume credit-api") as raised:
        paused.check_active()
    assert (raised.value.http_status, raised.value.error_code) == (503, "DEPLOYMENT_PAUSED")


def test_views_compare_by_definition_and_loaded_versions() -> None:
    served = view()
    same = DeploymentView(served.deployment, served.routes)
    assert served.same_as(same)
    assert not served.same_as(served.with_status(DeploymentStatus.PAUSED))
    reloaded = replace(served.routes[0], endpoint=endpoint(2))  # same version, other load
    assert not served.same_as(DeploymentView(served.deployment, (reloaded, *served.routes[1:])))
    # A version shared by a live route and a shadow is loaded apart for the shadow.
    assert len(served.endpoints()) == 3
    assert served.describe().startswith("primary credit v2 70% (models:/credit@champion)")


def test_the_sticky_key_comes_from_the_header_then_the_first_row() -> None:
    records = native_payload({"records": [{"customer_id": "c-7", "x": 1}, {"x": 2}]})
    assert sticky_value("customer_id", {"customer_id": "h-1"}, records) == "h-1"
    assert sticky_value("customer_id", {}, records) == "c-7"
    columns = native_payload({"columns": {"customer_id": [42, 43], "x": [1, 2]}})
    assert sticky_value("customer_id", {}, columns) == "42"
    tensor = Payload(named={"customer_id": np.array([[7], [8]])})
    assert sticky_value("customer_id", {}, tensor) == "7"
    assert sticky_value("customer_id", {}, native_payload({"records": [{"x": 1}]})) is None
    missing_first = Payload(named={"customer_id": [MISSING, "c-2"]})
    assert sticky_value("customer_id", {}, missing_first) is None
    assert sticky_value("customer_id", {}, Payload(named={"customer_id": []})) is None
    assert sticky_value("customer_id", {}, Payload(unnamed=[[1, 2]])) is None
