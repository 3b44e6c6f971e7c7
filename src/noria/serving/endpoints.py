"""Putting a loaded model behind a batcher, and switching a served name to another version.

Both run on the event loop: a batcher starts its dispatch task there, and replacing a dict
entry between two awaits is atomic for every request handler.
"""

from __future__ import annotations

from concurrent.futures import Executor

from noria.serving.batching import MicroBatcher, PredictFn
from noria.serving.loading import ServedModel
from noria.serving.metrics import ServingMetrics, version_label
from noria.serving.model_input import ModelInput
from noria.serving.predictions import Predictions
from noria.serving.state import ModelEndpoint, ServingState


def start_endpoint(state: ServingState, served: ServedModel, executor: Executor) -> ModelEndpoint:
    """``served`` behind a new, started batcher, with its metric series bound."""
    batching = served.source.config.batching
    batcher = MicroBatcher(
        _timed(state.metrics, served),
        batching,
        executor=executor,
        observer=state.metrics.observer(served.name, served.version),
    )
    batcher.start()
    return ModelEndpoint(
        served, batcher, state.metrics.endpoint_series(served.name, served.version)
    )


def publish(state: ServingState, endpoint: ModelEndpoint) -> ModelEndpoint | None:
    """Serve ``endpoint`` under its name from the next request on; returns the one it
    replaces (whose requests in flight still finish on it)."""
    previous = state.endpoints.get(endpoint.name)
    state.endpoints[endpoint.name] = endpoint
    info = state.metrics.model_info
    if previous is not None:
        info.remove(*_info_labels(previous.served))
    info.labels(*_info_labels(endpoint.served)).set(1)
    return previous


def _info_labels(served: ServedModel) -> tuple[str, str, str, str]:
    return (served.name, version_label(served.version), served.flavor, served.source.config.uri)


def _timed(metrics: ServingMetrics, served: ServedModel) -> PredictFn:
    """``served.predict_batch``, timed into ``noria_serving_predict_duration_seconds``."""
    histogram = metrics.predict_latency.labels(served.name, version_label(served.version))
    predict = served.predict_batch

    def timed(inputs: ModelInput) -> Predictions:
        with histogram.time():
            return predict(inputs)

    return timed
