"""Deployments: which model versions answer behind one endpoint, and how traffic is split.

A deployment has one **primary** route, any number of **canary** routes that take a
percentage of the requests away from it, and **shadow** routes that get a copy of every
request and whose answers are logged, never returned::

    Deployment(
        name="credit-api",
        routes=(
            Route("models:/credit@champion", RouteRole.PRIMARY, 90),
            Route("models:/credit@challenger", RouteRole.CANARY, 10),
            Route("models:/credit/4", RouteRole.SHADOW),
        ),
        sticky_key="customer_id",
        promotion=PromotionPolicy(min_requests=200, max_disagreement=0.2),
    )

A :class:`PromotionPolicy` says when a ``challenger`` route may replace the primary (see
:mod:`noria.promotion`). The rules live here, so every store and every entry point refuses
the same mistakes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.uris import ModelAliasUri, ModelVersionUri, parse_uri
from noria.errors import InvalidArgument, InvalidUri

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_STICKY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
MAX_DESCRIPTION_LENGTH = 5000
MAX_ROUTES = 16
# Percentages are compared with this slack, so 33.3 + 66.7 counts as 100.
_PERCENT_SLACK = 1e-6


class RouteRole(StrEnum):
    PRIMARY = "primary"  # answers what the canaries do not take
    CANARY = "canary"  # answers its percentage of requests
    SHADOW = "shadow"  # sees a copy of every request; its answers are only logged


class DeploymentStatus(StrEnum):
    ACTIVE = "active"  # the model server routes requests to it
    PAUSED = "paused"  # kept, but the model server answers 503 instead of predicting


@dataclass(frozen=True, slots=True)
class Route:
    """One model behind a deployment. ``percent`` is 0 to 100 and 0 for shadows."""

    model_uri: str
    role: RouteRole
    percent: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", _role(self.role))
        _check_model_uri(self.model_uri)
        _check_percent(self)

    @property
    def model_name(self) -> str:
        return _parsed_model_uri(self.model_uri).name

    @property
    def alias(self) -> str | None:
        """The alias the route follows (``champion``), or None when it pins a version."""
        parsed = _parsed_model_uri(self.model_uri)
        return parsed.alias if isinstance(parsed, ModelAliasUri) else None

    @property
    def takes_traffic(self) -> bool:
        return self.role is not RouteRole.SHADOW


@dataclass(frozen=True, slots=True)
class Deployment:
    """A named set of routes. ``created_*``, ``updated_at`` and ``revision`` are set by the
    store; an update must carry the revision it read (optimistic concurrency)."""

    name: str
    routes: tuple[Route, ...]
    description: str = ""
    sticky_key: str | None = None  # a request field or header naming the caller
    status: DeploymentStatus = DeploymentStatus.ACTIVE
    created_by: str = ""
    created_at: int = 0  # ms since the epoch, as the registry has them
    updated_at: int = 0
    revision: int = 0
    promotion: PromotionPolicy | None = None  # when a challenger replaces the primary

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", tuple(self.routes))
        if self.promotion is not None and not isinstance(self.promotion, PromotionPolicy):
            raise InvalidArgument(
                f"Deployment {self.name!r}: promotion {self.promotion!r} is not a "
                "PromotionPolicy; pass PromotionPolicy(min_requests=…, …) or None."
            )
        object.__setattr__(self, "status", _status(self.status))
        check_deployment_name(self.name)
        if len(self.description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidArgument(
                f"Deployment {self.name!r} has a description of {len(self.description)} "
                f"characters; the limit is {MAX_DESCRIPTION_LENGTH}."
            )
        if self.sticky_key is not None:
            check_sticky_key(self.sticky_key)
        check_routes(self.name, self.routes)

    @property
    def primary(self) -> Route:
        return next(route for route in self.routes if route.role is RouteRole.PRIMARY)

    @property
    def canaries(self) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if route.role is RouteRole.CANARY)

    @property
    def shadows(self) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if route.role is RouteRole.SHADOW)

    @property
    def traffic_routes(self) -> tuple[Route, ...]:
        """The routes that answer callers: the primary first, then canaries in order."""
        return (self.primary, *self.canaries)

    def route(self, model_uri: str) -> Route:
        """The route serving ``model_uri``; ``InvalidArgument`` listing the routes otherwise."""
        for route in self.routes:
            if route.model_uri == model_uri:
                return route
        known = ", ".join(f"{r.model_uri} ({r.role.value})" for r in self.routes)
        raise InvalidArgument(
            f"Deployment {self.name!r} has no route {model_uri!r}; its routes are {known}."
        )

    def with_routes(self, routes: tuple[Route, ...]) -> Deployment:
        return replace(self, routes=routes)

    def entity(self) -> EntityRef:
        return EntityRef(EntityKind.DEPLOYMENT, self.name)


# The evaluation suite's metrics (noria.evaluation.metrics; a unit test keeps them equal),
# and those where a smaller value is better.
POLICY_METRICS = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss",
    "calibration_error", "rmse", "mae", "r2", "mape",
)  # fmt: skip
LOWER_IS_BETTER = frozenset({"log_loss", "calibration_error", "rmse", "mae", "mape"})
# A policy's fields, in the order YAML, JSON and messages list them.
POLICY_FIELDS = (
    "min_requests",
    "max_disagreement",
    "metric",
    "min_performance_delta",
    "min_labels",
    "auto_promote",
)


@dataclass(frozen=True, slots=True)
class PromotionPolicy:
    """When a deployment's ``challenger`` route replaces its primary.

    - ``min_requests``: rows the challenger must answer (or shadow) before it is judged;
    - ``max_disagreement``: at most this share of different labels (or mean absolute score
      difference) against the primary on the rows both answered; None: no such rule;
    - ``metric`` and ``min_performance_delta``: on labelled rows, challenger minus primary
      must be at least the delta (an improvement for lower-is-better metrics such as
      ``log_loss``: the sign is turned so that a positive delta is always better); a
      metric without a delta means a delta of 0 (not worse);
    - ``min_labels``: labelled rows needed before the performance rule can decide;
    - ``auto_promote``: False holds a passing challenger for ``noria deploy promote``.
    """

    min_requests: int = 200
    max_disagreement: float | None = 0.2
    metric: str | None = None
    min_performance_delta: float | None = None
    min_labels: int = 50
    auto_promote: bool = True

    def __post_init__(self) -> None:
        _check_count("min_requests", self.min_requests, low=1)
        _check_count("min_labels", self.min_labels, low=1)
        if self.max_disagreement is not None:
            value = _check_number("max_disagreement", self.max_disagreement)
            if value < 0:
                raise InvalidArgument(
                    f"Promotion policy: max_disagreement {value:g} is negative; use a share "
                    "such as 0.2 (20 % of labels differ) or a score difference, or None."
                )
            object.__setattr__(self, "max_disagreement", value)
        if self.metric is not None and self.metric not in POLICY_METRICS:
            raise InvalidArgument(
                f"Promotion policy: unknown metric {self.metric!r}; use one of "
                f"{', '.join(POLICY_METRICS)}."
            )
        if self.min_performance_delta is not None:
            if self.metric is None:
                raise InvalidArgument(
                    f"Promotion policy: min_performance_delta {self.min_performance_delta!r} "
                    "needs a metric to compare, e.g. metric='roc_auc'."
                )
            delta = _check_number("min_performance_delta", self.min_performance_delta)
            object.__setattr__(self, "min_performance_delta", delta)
        if not isinstance(self.auto_promote, bool):
            raise InvalidArgument(
                f"Promotion policy: auto_promote {self.auto_promote!r} is not true or false."
            )

    @property
    def delta(self) -> float:
        """The performance delta the challenger must reach (0 when only a metric is named)."""
        return 0.0 if self.min_performance_delta is None else self.min_performance_delta

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in POLICY_FIELDS}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PromotionPolicy:
        """The inverse of :meth:`to_dict`; unknown fields are refused, naming them."""
        unknown = sorted(set(values) - set(POLICY_FIELDS))
        if unknown:
            raise InvalidArgument(
                f"Promotion policy: unknown field(s) {', '.join(unknown)}; expected "
                f"{', '.join(POLICY_FIELDS)}."
            )
        return cls(**values)


def _check_count(name: str, value: object, *, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArgument(
            f"Promotion policy: {name} {value!r} is not a whole number of at least {low}."
        )


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(f"Promotion policy: {name} {value!r} is not a finite number.")
    return float(value)


def check_deployment_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"Invalid deployment name {name!r}: use 1 to 128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_sticky_key(key: str) -> str:
    if not isinstance(key, str) or not _STICKY_KEY.fullmatch(key):
        raise InvalidArgument(
            f"Invalid sticky key {key!r}: name a request field or header with up to 128 "
            "letters, digits, '_', '.' or '-', starting with a letter or '_'."
        )
    return key


def check_routes(name: str, routes: tuple[Route, ...]) -> None:
    """One primary; canaries and the primary split 100 %; each model URI at most once."""
    if not routes:
        raise InvalidArgument(
            f"Deployment {name!r} has no routes: give a primary, e.g. "
            "--model models:/<name>@champion."
        )
    if len(routes) > MAX_ROUTES:
        raise InvalidArgument(
            f"Deployment {name!r} has {len(routes)} routes; the limit is {MAX_ROUTES}."
        )
    primaries = [route.model_uri for route in routes if route.role is RouteRole.PRIMARY]
    if len(primaries) != 1:
        found = ", ".join(primaries) if primaries else "none"
        raise InvalidArgument(
            f"Deployment {name!r} needs exactly one primary route; found {len(primaries)} "
            f"({found}). Make the others canaries or shadows."
        )
    seen: set[str] = set()
    for route in routes:
        if route.model_uri in seen:
            raise InvalidArgument(
                f"Deployment {name!r} names {route.model_uri} twice: give each model URI "
                "one route (a version and an alias that points at it are fine)."
            )
        seen.add(route.model_uri)
    total = sum(route.percent for route in routes if route.takes_traffic)
    if abs(total - 100.0) > _PERCENT_SLACK:
        shares = " + ".join(f"{route.percent:g}" for route in routes if route.takes_traffic)
        raise InvalidArgument(
            f"Deployment {name!r}: the primary and canary percentages add up to {total:g} "
            f"({shares}); they must add up to 100."
        )


def split_traffic(name: str, primary: str, canaries: dict[str, float]) -> tuple[Route, ...]:
    """The primary at ``100 - sum(canaries)`` and the canaries at their percentages."""
    taken = sum(canaries.values())
    if taken > 100.0 + _PERCENT_SLACK:
        raise InvalidArgument(
            f"Deployment {name!r}: the canaries take {taken:g} % in all; together they may "
            "take at most 100 % (the primary answers the rest)."
        )
    rest = max(0.0, 100.0 - taken)
    routes = [Route(primary, RouteRole.PRIMARY, rest)]
    routes += [Route(uri, RouteRole.CANARY, percent) for uri, percent in canaries.items()]
    return tuple(routes)


def _parsed_model_uri(uri: str) -> ModelAliasUri | ModelVersionUri:
    try:
        parsed = parse_uri(uri)
    except InvalidUri as exc:
        raise InvalidArgument(f"Route model {uri!r} is not a model URI: {exc.message}") from None
    if not isinstance(parsed, ModelAliasUri | ModelVersionUri):
        raise InvalidArgument(
            f"Route model {uri!r} names no version: use models:/<name>@<alias> "
            "(e.g. @champion) or models:/<name>/<version>."
        )
    return parsed


def _check_model_uri(uri: str) -> None:
    if not isinstance(uri, str):
        raise InvalidArgument(f"Route model {uri!r} is not text: use models:/<name>@<alias>.")
    parsed = _parsed_model_uri(uri)
    if isinstance(parsed, ModelAliasUri) and parsed.alias.lower() == "latest":
        raise InvalidArgument(
            f"Route model {uri!r} follows @latest, which moves on every registration and "
            "cannot be promoted or rolled back: use an alias you set (e.g. @champion) "
            "or a version."
        )


def _check_percent(route: Route) -> None:
    percent = route.percent
    if (
        isinstance(percent, bool)
        or not isinstance(percent, int | float)
        or not math.isfinite(percent)
    ):
        raise InvalidArgument(
            f"Route {route.model_uri}: traffic {percent!r} is not a number; use 0 to 100."
        )
    object.__setattr__(route, "percent", float(percent))
    if route.role is RouteRole.SHADOW:
        if percent != 0:
            raise InvalidArgument(
                f"Shadow route {route.model_uri} has traffic {percent:g} %: shadows get a "
                "copy of every request and take no share; drop the percentage or make it "
                "a canary."
            )
        return
    low = 0.0 if route.role is RouteRole.PRIMARY else _PERCENT_SLACK
    if not low <= percent <= 100.0:
        allowed = "0 to 100" if route.role is RouteRole.PRIMARY else "more than 0, at most 100"
        raise InvalidArgument(
            f"{route.role.value.capitalize()} route {route.model_uri} has traffic "
            f"{percent:g} %; use {allowed}."
        )


def _role(value: str) -> RouteRole:
    try:
        return RouteRole(value)
    except ValueError:
        roles = ", ".join(role.value for role in RouteRole)
        raise InvalidArgument(f"Unknown route role {value!r}: use one of {roles}.") from None


def _status(value: str) -> DeploymentStatus:
    try:
        return DeploymentStatus(value)
    except ValueError:
        known = ", ".join(status.value for status in DeploymentStatus)
        raise InvalidArgument(f"Unknown deployment status {value!r}: use one of {known}.") from None
