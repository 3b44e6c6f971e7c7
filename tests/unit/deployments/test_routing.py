"""The router: canary shares hold over many requests, sticky keys never move."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from noria.deployments import choose_route, shadows, sticky_bucket
from noria.domain.deployments import Deployment, Route, RouteRole
from noria.errors import InvalidArgument

CHAMPION = "models:/credit@champion"
CHALLENGER = "models:/credit@challenger"
PINNED = "models:/credit/4"


def deployment(canary: float = 10.0, *, name: str = "credit-api") -> Deployment:
    return Deployment(
        name=name,
        routes=(
            Route(CHAMPION, RouteRole.PRIMARY, 100 - canary),
            Route(CHALLENGER, RouteRole.CANARY, canary),
            Route(PINNED, RouteRole.SHADOW),
        ),
        sticky_key="customer_id",
    )


@pytest.mark.parametrize("canary", [10.0, 25.0, 50.0])
def test_unkeyed_requests_split_within_three_points(canary: float) -> None:
    rng = random.Random(20240517)
    chosen = Counter(
        choose_route(deployment(canary), None, rng.random()).model_uri for _ in range(2000)
    )
    share = 100 * chosen[CHALLENGER] / 2000
    assert abs(share - canary) <= 3, chosen
    assert chosen[CHAMPION] + chosen[CHALLENGER] == 2000  # never a shadow


def test_sticky_keys_always_land_on_the_same_route() -> None:
    plan = deployment(30)
    keys = [f"customer-{i}" for i in range(500)]
    first = {key: choose_route(plan, key, 0.0).model_uri for key in keys}
    rng = random.Random(7)
    for _ in range(3):
        for key in keys:  # the random draw is ignored when a key is given
            assert choose_route(plan, key, rng.random()).model_uri == first[key]
    share = 100 * sum(uri == CHALLENGER for uri in first.values()) / len(keys)
    assert abs(share - 30) <= 7  # hashing spreads keys like draws do


def test_sticky_buckets_are_stable_and_salted_by_deployment() -> None:
    # Fixed values: a replica on another machine or Python must agree.
    assert sticky_bucket("credit-api", "customer-1") == sticky_bucket("credit-api", "customer-1")
    assert 0 <= sticky_bucket("credit-api", "customer-1") < 100
    buckets = [sticky_bucket("a", f"k{i}") for i in range(200)]
    others = [sticky_bucket("b", f"k{i}") for i in range(200)]
    assert buckets != others


def test_a_key_stays_with_the_canary_while_its_share_grows() -> None:
    keys = [f"customer-{i}" for i in range(300)]
    at_10 = {k for k in keys if choose_route(deployment(10), k, 0).model_uri == CHALLENGER}
    at_40 = {k for k in keys if choose_route(deployment(40), k, 0).model_uri == CHALLENGER}
    assert at_10 <= at_40 and len(at_40) > len(at_10)


def test_edges_of_the_draw_and_a_full_canary() -> None:
    assert choose_route(deployment(10), None, 0.0).model_uri == CHAMPION
    assert choose_route(deployment(10), None, 0.8999).model_uri == CHAMPION
    assert choose_route(deployment(10), None, 0.9).model_uri == CHALLENGER
    assert choose_route(deployment(10), None, 0.999999).model_uri == CHALLENGER
    assert choose_route(deployment(100), None, 0.0).model_uri == CHALLENGER  # primary at 0 %
    for draw in (-0.1, 1.0, float("nan")):
        with pytest.raises(InvalidArgument, match="random_draw must be in"):
            choose_route(deployment(), None, draw)


def test_shadows_are_listed_and_never_chosen() -> None:
    assert [route.model_uri for route in shadows(deployment())] == [PINNED]
    solo = Deployment("solo", (Route(CHAMPION, RouteRole.PRIMARY, 100),))
    assert shadows(solo) == []
    assert choose_route(solo, "anyone", 0.5).model_uri == CHAMPION
