"""Which route answers a request: pure and deterministic, so every replica agrees.

>>> route = choose_route(deployment, request_key=None, random_draw=rng.random())
>>> for shadow in shadows(deployment): ...   # send each a copy, log its answer

A request with a key (the value of the deployment's ``sticky_key`` field) lands in a bucket
in [0, 100) computed from a hash of the deployment name and the key, so one caller always
meets the same model, on any replica, until the percentages change. A request without a key
uses ``random_draw`` (uniform in [0, 1)). The bucket walks the primary's share first, then
each canary's, in the order the deployment lists them.
"""

from __future__ import annotations

import hashlib

from noria.domain.deployments import Deployment, Route
from noria.errors import InvalidArgument

_BUCKET_SPACE = 2**64


def sticky_bucket(deployment_name: str, request_key: str) -> float:
    """A stable bucket in [0, 100) for ``request_key`` within one deployment.

    The deployment's name salts the hash, so one caller is not the canary of every deployment.
    """
    digest = hashlib.sha256(f"{deployment_name}\x00{request_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") * 100.0 / _BUCKET_SPACE


def choose_route(deployment: Deployment, request_key: str | None, random_draw: float) -> Route:
    """The primary or canary route that answers this request."""
    if request_key is not None:
        bucket = sticky_bucket(deployment.name, request_key)
    else:
        if not 0.0 <= random_draw < 1.0:
            raise InvalidArgument(
                f"random_draw must be in [0, 1), got {random_draw!r}: pass random.random()."
            )
        bucket = random_draw * 100.0
    answering = [route for route in deployment.traffic_routes if route.percent > 0]
    edge = 0.0
    for route in answering:
        edge += route.percent
        if bucket < edge:
            return route
    return answering[-1]  # rounding left the bucket just past the last edge


def shadows(deployment: Deployment) -> list[Route]:
    """The routes that get a copy of every request; their answers are logged, never returned."""
    return list(deployment.shadows)
