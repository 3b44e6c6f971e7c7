"""What a serving app holds while it runs: its models, each with its batcher, its deployments
(:mod:`noria.serving.deployment_view`), and its metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument, NotFound
from noria.predictions.records import PredictionSink
from noria.serving.batching import MicroBatcher
from noria.serving.config import ServingConfig
from noria.serving.loading import ServedModel
from noria.serving.metrics import EndpointSeries, ServingMetrics, version_label

if TYPE_CHECKING:
    from noria.predictions.feedback import FeedbackLog
    from noria.serving.deployment_view import DeploymentView
    from noria.serving.shadows import ShadowTraffic


@dataclass(frozen=True, slots=True)
class ModelEndpoint:
    """One served model version, the batcher in front of it and its request series.

    A hot swap replaces the whole endpoint; a request keeps the one it started with, so it
    is validated, predicted and answered by one version."""

    served: ServedModel
    batcher: MicroBatcher
    series: EndpointSeries

    @property
    def name(self) -> str:
        return self.served.name

    @property
    def version_label(self) -> str:
        return version_label(self.served.version)


@dataclass(frozen=True, slots=True)
class SwapError:
    """Why the last attempt to follow a moved alias failed (the old version kept serving)."""

    version: int
    message: str
    time_ms: int

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "message": self.message, "time_ms": self.time_ms}


@dataclass(slots=True)
class ServingState:
    """Filled in by the app's lifespan; read by every route."""

    config: ServingConfig
    metrics: ServingMetrics
    sink: PredictionSink | None = None
    feedback: FeedbackLog | None = None
    endpoints: dict[str, ModelEndpoint] = field(default_factory=dict)
    watched: frozenset[str] = frozenset()  # served names whose alias is followed
    swap_errors: dict[str, SwapError] = field(default_factory=dict)
    deployments: dict[str, DeploymentView] = field(default_factory=dict)
    route_errors: dict[tuple[str, str], SwapError] = field(default_factory=dict)  # (name, uri)
    shadows: ShadowTraffic | None = None
    ready: bool = False

    def endpoint(self, name: str) -> ModelEndpoint:
        """The model served as ``name``; NotFound (404) listing the served names otherwise."""
        found = self.endpoints.get(name)
        if found is None:
            raise NotFound(
                f"no model named {name!r} is served here; served models: "
                f"{sorted(self.endpoints) or 'none'} (GET /v1/models lists them)"
                + self._deployments_hint()
            )
        return found

    def deployment(self, name: str) -> DeploymentView:
        """The deployment served as ``name``; NotFound (404) listing the served ones otherwise."""
        found = self.deployments.get(name)
        if found is None:
            raise NotFound(
                f"no deployment named {name!r} is served here; served deployments: "
                f"{sorted(self.deployments) or 'none'} (GET /v1/deployments lists them)"
            )
        return found

    def invocation_target(self, name: str | None) -> str:
        """``/invocations``: the model or deployment named by ``?model=``, or the only one
        served."""
        if name is not None:
            return name
        served = sorted([*self.endpoints, *self.deployments])
        if len(served) == 1:
            return served[0]
        raise InvalidArgument(
            f"several models are served ({', '.join(served)}): choose one with "
            "?model=<name>, e.g. POST /invocations?model=" + min(served, default="name")
        )

    def _deployments_hint(self) -> str:
        if not self.deployments:
            return ""
        return f"; served deployments: {sorted(self.deployments)} (GET /v1/deployments)"
