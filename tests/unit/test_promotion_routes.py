"""Challenger routes as a shadow or a canary, and taking them away; the YAML policy block."""

from __future__ import annotations

import pytest

from noria.deployments.spec_yaml import parse_deployment
from noria.domain.deployments import Deployment, PromotionPolicy, Route, RouteRole
from noria.errors import InvalidArgument
from noria.promotion.routes import check_mode, with_challenger, without_route

CHALLENGER = "models:/credit@challenger"
BASE = Deployment(
    name="credit-api",
    routes=(
        Route("models:/credit@champion", RouteRole.PRIMARY, 90),
        Route("models:/other/1", RouteRole.CANARY, 10),
        Route("models:/credit/1", RouteRole.SHADOW),
    ),
)


def shape(routes: tuple[Route, ...] | None) -> list[tuple[str, str, float]]:
    assert routes is not None
    return [(r.model_uri, r.role.value, r.percent) for r in routes]


def test_a_challenger_joins_as_a_shadow_or_a_canary() -> None:
    shadowed = with_challenger(BASE, CHALLENGER, RouteRole.SHADOW, 10)
    assert shape(shadowed)[-1] == (CHALLENGER, "shadow", 0.0)
    assert shape(shadowed)[0] == ("models:/credit@champion", "primary", 90.0)
    canaried = with_challenger(BASE, CHALLENGER, RouteRole.CANARY, 25)
    assert shape(canaried)[:3] == [
        ("models:/credit@champion", "primary", 65.0),
        ("models:/other/1", "canary", 10.0),
        (CHALLENGER, "canary", 25.0),
    ]
    # Already there in that mode: no change; in another mode: moved.
    there = BASE.with_routes(canaried)  # type: ignore[arg-type]
    assert with_challenger(there, CHALLENGER, RouteRole.CANARY, 25) is None
    moved = with_challenger(there, CHALLENGER, RouteRole.SHADOW, 25)
    assert shape(moved)[0][2] == 90.0 and shape(moved)[-1] == (CHALLENGER, "shadow", 0.0)
    assert shape(without_route(there, CHALLENGER)) == shape(BASE.routes)
    with pytest.raises(InvalidArgument, match="is the primary"):
        without_route(BASE, "models:/credit@champion")


@pytest.mark.parametrize(
    ("mode", "traffic", "message"),
    [("blue", 10, "mode 'blue' is unknown"), ("canary", 100, "traffic 100 is not a percentage")],
)
def test_bad_modes_are_refused(mode: str, traffic: float, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        check_mode(mode, traffic)


YAML = """name: credit-api
routes:
  - model: models:/credit@champion
    role: primary
promotion:
  min_requests: 300
  metric: roc_auc
  min_performance_delta: 0.01
  auto_promote: false
"""


def test_the_yaml_promotion_block() -> None:
    deployment = parse_deployment(YAML)
    assert deployment.promotion == PromotionPolicy(
        min_requests=300, metric="roc_auc", min_performance_delta=0.01, auto_promote=False
    )
    assert parse_deployment(YAML.split("promotion:", maxsplit=1)[0]).promotion is None


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("  min_requests: -3\n", "line 6, promotion.min_requests: min_requests -3"),
        ("  metric: auc\n", "line 6, promotion.metric: unknown metric 'auc'"),
        ("  min_rows: 3\n", "line 6: field 'min_rows' is unknown"),
        ("  min_performance_delta: 0.1\n", "line 6, promotion: min_performance_delta 0.1 needs"),
        ("  - 3\n", "line 6, promotion line 6: expected a mapping"),
    ],
)
def test_yaml_mistakes_name_the_line_and_field(block: str, message: str) -> None:
    text = YAML.split("promotion:", maxsplit=1)[0] + "promotion:\n" + block
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")) as raised:
        parse_deployment(text)
    assert raised.value.message.startswith("deployment.yaml line")
