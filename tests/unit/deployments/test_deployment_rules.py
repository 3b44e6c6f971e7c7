"""Validation of deployments and routes: every rule refuses with a message naming the fix."""

from __future__ import annotations

import re

import pytest

from noria.domain.deployments import (
    Deployment,
    DeploymentStatus,
    Route,
    RouteRole,
    split_traffic,
)
from noria.errors import InvalidArgument

PRIMARY = Route("models:/credit@champion", RouteRole.PRIMARY, 100)


def test_a_valid_deployment_exposes_its_routes_by_role() -> None:
    routes = split_traffic(
        "api", "models:/credit@champion", {"models:/credit@b": 5, "models:/credit/3": 15.5}
    )
    plan = Deployment("api", (*routes, Route("models:/fraud/1", RouteRole.SHADOW)))
    assert plan.primary.percent == 79.5
    assert [r.model_uri for r in plan.canaries] == ["models:/credit@b", "models:/credit/3"]
    assert [r.model_uri for r in plan.shadows] == ["models:/fraud/1"]
    assert plan.primary.alias == "champion" and plan.canaries[1].alias is None
    assert plan.shadows[0].model_name == "fraud"
    assert plan.entity().uri == "deployments:/api"
    assert plan.status is DeploymentStatus.ACTIVE
    # Roles and statuses given as text are read as the enums.
    assert Route("models:/m/1", "shadow").role is RouteRole.SHADOW  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ((), "has no routes"),
        ((Route("models:/credit/1", RouteRole.CANARY, 100),), "exactly one primary route; found 0"),
        (
            (PRIMARY, Route("models:/credit/2", RouteRole.PRIMARY, 0)),
            "exactly one primary route; found 2",
        ),
        (
            (
                Route("models:/credit@champion", RouteRole.PRIMARY, 90),
                Route("models:/credit/2", RouteRole.CANARY, 20),
            ),
            "add up to 110 (90 + 20); they must add up to 100",
        ),
        (
            (PRIMARY, Route("models:/credit@champion", RouteRole.SHADOW)),
            "names models:/credit@champion twice",
        ),
    ],
)
def test_route_sets_that_break_a_rule(routes: tuple[Route, ...], message: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        Deployment("api", routes)


@pytest.mark.parametrize(
    ("uri", "role", "percent", "message"),
    [
        ("credit", RouteRole.PRIMARY, 100, "not a model URI"),
        ("models:/credit", RouteRole.PRIMARY, 100, "names no version"),
        (
            "runs:/0123456789abcdef0123456789abcdef/model",
            RouteRole.PRIMARY,
            100,
            "names no version",
        ),
        ("models:/credit@latest", RouteRole.PRIMARY, 100, "follows @latest"),
        ("models:/credit/2", RouteRole.SHADOW, 5, "shadows get a copy of every request"),
        ("models:/credit/2", RouteRole.CANARY, 0, "use more than 0, at most 100"),
        ("models:/credit/2", RouteRole.CANARY, 101, "use more than 0, at most 100"),
        ("models:/credit/2", RouteRole.PRIMARY, -1, "use 0 to 100"),
        ("models:/credit/2", RouteRole.CANARY, float("nan"), "is not a number"),
        ("models:/credit/2", "backup", 0, "Unknown route role 'backup'"),
    ],
)
def test_routes_that_break_a_rule(uri: str, role: RouteRole, percent: float, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        Route(uri, role, percent)


def test_names_sticky_keys_descriptions_and_statuses_are_checked() -> None:
    with pytest.raises(InvalidArgument, match="Invalid deployment name 'no spaces'"):
        Deployment("no spaces", (PRIMARY,))
    with pytest.raises(InvalidArgument, match="Invalid sticky key 'x y'"):
        Deployment("api", (PRIMARY,), sticky_key="x y")
    assert Deployment("api", (PRIMARY,), sticky_key="x-customer.id").sticky_key == "x-customer.id"
    with pytest.raises(InvalidArgument, match="the limit is 5000"):
        Deployment("api", (PRIMARY,), description="x" * 5001)
    with pytest.raises(InvalidArgument, match="Unknown deployment status 'gone'"):
        Deployment("api", (PRIMARY,), status="gone")  # type: ignore[arg-type]


def test_route_lookup_and_traffic_split_errors() -> None:
    plan = Deployment("api", (PRIMARY,))
    with pytest.raises(InvalidArgument, match="has no route 'models:/x/1'; its routes are"):
        plan.route("models:/x/1")
    with pytest.raises(InvalidArgument, match="the canaries take 120 % in all"):
        split_traffic("api", "models:/credit@champion", {"models:/a/1": 60, "models:/b/1": 60})
    assert split_traffic("api", "models:/c/1", {"models:/c/2": 100})[0].percent == 0
