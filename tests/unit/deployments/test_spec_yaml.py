"""Deployments from YAML: the documented form, and errors that name the line and field."""

from __future__ import annotations

import textwrap

import pytest

from noria.deployments.spec_yaml import parse_deployment
from noria.domain.deployments import Route, RouteRole
from noria.errors import InvalidArgument

EXAMPLE = """\
name: credit-api
description: Credit risk scoring
sticky_key: customer_id
routes:
  - model: models:/credit@champion
    role: primary
  - model: models:/credit@challenger
    role: canary
    traffic: 10
  - model: models:/credit/4
    role: shadow
"""


def test_the_documented_example() -> None:
    plan = parse_deployment(EXAMPLE)
    assert (plan.name, plan.description, plan.sticky_key) == (
        "credit-api",
        "Credit risk scoring",
        "customer_id",
    )
    assert plan.routes == (
        Route("models:/credit@champion", RouteRole.PRIMARY, 90),
        Route("models:/credit@challenger", RouteRole.CANARY, 10),
        Route("models:/credit/4", RouteRole.SHADOW),
    )


def test_a_primary_traffic_that_matches_is_accepted() -> None:
    text = EXAMPLE.replace("    role: primary\n", "    role: primary\n    traffic: 90\n")
    assert parse_deployment(text).primary.percent == 90


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed\n", "deployment.yaml line 2: not valid YAML"),
        ("- a\n", "deployment.yaml line 1: expected a mapping of name"),
        ("name: x\n", "deployment.yaml line 1: missing field 'routes'"),
        ("name: x\nroutes: []\n", "line 2, routes: expected a list of routes"),
        ("name: x\nowner: bo\nroutes: []\n", "line 2: field 'owner' is unknown"),
        (
            "name: x\nroutes:\n  - model: models:/m/1\n",
            "line 3, routes[0]: missing field 'role'",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: boss}\n",
            "line 3, routes[0]: role 'boss' is unknown; use one of primary, canary, shadow",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: primary}\n"
            "  - {model: models:/m/2, role: canary}\n",
            "line 4, routes[1]: missing field 'traffic' (a canary's percentage)",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: primary}\n"
            "  - {model: models:/m/2, role: canary, traffic: ten}\n",
            "line 4, routes[1] line 4: traffic 'ten' is not a number",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: primary}\n"
            "  - {model: models:/m/2, role: shadow, traffic: 5}\n",
            "line 4, routes[1]: Shadow route models:/m/2 has traffic 5 %",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: primary}\n"
            "  - {model: models:/m/1, role: shadow}\n",
            "line 4, routes[1]: models:/m/1 has a route already",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: primary}\n"
            "  - {model: models:/m/2, role: primary}\n",
            "line 4, routes[1]: a second primary (models:/m/2)",
        ),
        ("name: x\nroutes:\n  - {model: models:/m/1, role: shadow}\n", "no route has role primary"),
        (
            "name: x\nroutes:\n  - {model: m, role: primary}\n",
            "line 3, routes[0]: Route model 'm' is not a model URI",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: primary, traffic: 50}\n",
            "the primary's traffic is 50 but the canaries leave it 100",
        ),
        (
            "name: x y\nroutes:\n  - {model: models:/m/1, role: primary}\n",
            "deployment.yaml: Invalid deployment name 'x y'",
        ),
        (
            "name: x\nroutes:\n  - {model: models:/m/1, role: primary}\n"
            "  - {model: models:/m/2, role: canary, traffic: 70}\n"
            "  - {model: models:/m/3, role: canary, traffic: 70}\n",
            "the canaries take 140 % in all",
        ),
    ],
)
def test_mistakes_name_the_line_and_field(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_deployment(textwrap.dedent(text))
    assert message in raised.value.message
    assert "\n" not in raised.value.message
