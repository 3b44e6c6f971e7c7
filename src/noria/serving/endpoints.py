"""Putting a loaded model behind a batcher, and switching a served name to another version.

Both run on the event loop: a batcher starts its dispatch task there, and replacing a dict
entry between two awaits is atomic for every request handler.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

from noria.serving.batching import MicroBatcher, PredictFn
from noria.serving.heap import refreeze
from noria.serving.loading import ServedModel
from noria.serving.metrics import ServingMetrics, version_label
from noria.serving.model_input import ModelInput
from noria.serving.predictions import Predictions
from noria.serving.state import ModelEndpoint, ServingState


def start_endpoint(
    state: ServingState, served: ServedModel, executor: Executor, *, shadow: bool = False
) -> ModelEndpoint:
    """``served`` behind a new, started batcher, with its metric series bound. A shadow's
    batcher never predicts on the event loop, and its failures are counted, not logged."""
    batching = served.source.config.batching
    batcher = MicroBatcher(
        _timed(state.metrics, served),
        batching,
        executor=executor,
        observer=state.metrics.observer(served.name, served.version),
        log_failures=not shadow,
        inline=not shadow,
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
    if previous is not None:
        hide_info(state, previous)
    show_info(state, endpoint)
    return previous


def show_info(state: ServingState, endpoint: ModelEndpoint) -> None:
    """``noria_serving_model_info`` for a version being served."""
    state.metrics.model_info.labels(*_info_labels(endpoint.served)).set(1)


def hide_info(state: ServingState, endpoint: ModelEndpoint) -> None:
    """Drop a version that is no longer served from ``noria_serving_model_info``."""
    state.metrics.model_info.remove(*_info_labels(endpoint.served))  # quiet when not shown


async def retire(endpoint: ModelEndpoint) -> None:
    """Let a replaced version answer what it took, then collect what it leaves behind."""
    await endpoint.batcher.retire()
    del endpoint  # the last reference to the old model, before the collection
    await asyncio.to_thread(refreeze)


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
