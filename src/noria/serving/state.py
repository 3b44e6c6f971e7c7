"""What a serving app holds while it runs: its models, each with its batcher, and its metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import InvalidArgument, NotFound
from noria.serving.batching import MicroBatcher
from noria.serving.config import ServingConfig
from noria.serving.loading import ServedModel
from noria.serving.metrics import EndpointSeries, ServingMetrics, version_label
from noria.serving.sink import PredictionSink

if TYPE_CHECKING:
    from noria.serving.feedback import FeedbackLog


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
    ready: bool = False

    def endpoint(self, name: str) -> ModelEndpoint:
        """The model served as ``name``; NotFound (404) listing the served names otherwise."""
        found = self.endpoints.get(name)
        if found is None:
            raise NotFound(
                f"no model named {name!r} is served here; served models: "
                f"{sorted(self.endpoints) or 'none yet (starting up)'} (GET /v1/models lists them)"
            )
        return found

    def default_endpoint(self, name: str | None) -> ModelEndpoint:
        """``/invocations``: the model named by ``?model=``, or the only one served."""
        if name is not None:
            return self.endpoint(name)
        if len(self.endpoints) == 1:
            return next(iter(self.endpoints.values()))
        raise InvalidArgument(
            f"several models are served ({', '.join(sorted(self.endpoints))}): choose one with "
            "?model=<name>, e.g. POST /invocations?model=" + min(self.endpoints, default="name")
        )
