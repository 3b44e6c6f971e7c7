"""Shadow traffic: a copy of every answered deployment request for each shadow route.

Copies leave only after the live answer has been sent, go to the shadow's own batcher
(whose model runs on threads of its own, so a slow shadow never holds a thread a live request
needs), and nothing waits for them: a callback logs each shadow answer when it comes. So a
shadow never delays or changes an answer. Its answer goes to the prediction log with the
live request's id and role ``shadow``.

A copy that the shadow's model rejects (its signature differs) or fails on is counted
(``noria_serving_shadow_predictions_total{outcome="failed"}``) and logged, at most once a
minute per route; when ``shadow_queue`` copies of one route are already waiting (the shadow
is slower than the traffic), further copies are dropped and counted, never queued without end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from noria.errors import NoriaError
from noria.predictions.records import PredictionRecord
from noria.serving.metrics import version_label
from noria.serving.validation import validate

if TYPE_CHECKING:
    from noria.serving.calls import PredictionCall, RouteTaken
    from noria.serving.deployment_view import RouteEndpoint
    from noria.serving.model_input import ModelInput
    from noria.serving.predictions import Predictions
    from noria.serving.state import ServingState

logger = logging.getLogger("noria.serving")
LOG_EVERY_S = 60.0
_RouteKey = tuple[str, str]  # (deployment, route model URI)


@dataclass(frozen=True, slots=True)
class _Copy:
    """One live request, copied to one shadow route."""

    state: ServingState
    call: PredictionCall
    route: RouteTaken
    shadow: RouteEndpoint

    @property
    def key(self) -> _RouteKey:
        return (self.route.deployment, self.shadow.route.model_uri)


class ShadowTraffic:
    """Sends the copies and counts those under way; :meth:`drain` waits for them at
    shutdown."""

    def __init__(self, limits: dict[str, int]) -> None:
        self._limits = limits  # deployment name -> copies one shadow route may have waiting
        self._waiting: Counter[_RouteKey] = Counter()
        self._pending: set[asyncio.Future[Predictions]] = set()
        self._logged_at: dict[_RouteKey, float] = {}
        self._unlogged: Counter[_RouteKey] = Counter()

    def send(self, state: ServingState, call: PredictionCall, route: RouteTaken) -> None:
        """Queue a copy of ``call``'s rows for each shadow route the deployment has now."""
        view = state.deployments.get(route.deployment)
        if view is None or view.paused:
            return
        limit = self._limits.get(route.deployment, 1)
        for shadow in view.shadows:
            copy = _Copy(state, call, route, shadow)
            if self._waiting[copy.key] >= limit:
                self._count(copy, "dropped")
                continue
            try:
                inputs = _shadow_inputs(call, route, shadow)
                future = shadow.endpoint.batcher.submit(inputs)
            except NoriaError as exc:
                self._failed(copy, exc)
                continue
            self._waiting[copy.key] += 1
            self._pending.add(future)
            # A callback, not a task per copy: cheaper, and nothing awaits the copy.
            future.add_done_callback(partial(self._answered, copy, inputs, time.perf_counter()))

    async def drain(self) -> None:
        """Wait for the copies under way (at shutdown, before the batchers close)."""
        while self._pending:
            await asyncio.wait(list(self._pending))

    def _answered(
        self, copy: _Copy, inputs: ModelInput, started: float, future: asyncio.Future[Predictions]
    ) -> None:
        self._pending.discard(future)
        self._waiting[copy.key] -= 1
        failure = future.exception() if not future.cancelled() else asyncio.CancelledError()
        if failure is not None:  # the shadow's failure is counted and logged, never raised
            self._failed(copy, failure)
            return
        predictions = future.result()
        self._count(copy, "answered")
        sink = copy.state.sink
        if sink is None:
            return
        shadow = copy.shadow
        record = PredictionRecord(
            request_id=copy.call.request_id,
            model=shadow.route.model_name,
            version=shadow.version,
            deployment=copy.route.deployment,
            inputs=inputs.row_dicts(),
            outputs=predictions.row_values(),
            latency_ms=(time.perf_counter() - started) * 1000,
            time_ms=copy.call.arrived_ms,  # the live request's time: both land in one window
            role=shadow.role.value,
        )
        if not sink.offer(record):
            copy.state.metrics.dropped_predictions.labels(record.model).inc()

    def _count(self, copy: _Copy, outcome: str) -> None:
        shadow = copy.shadow
        copy.state.metrics.shadow_predictions.labels(
            copy.route.deployment, shadow.route.model_name, version_label(shadow.version), outcome
        ).inc()

    def _failed(self, copy: _Copy, exc: BaseException) -> None:
        self._count(copy, "failed")
        now = time.monotonic()
        if now - self._logged_at.get(copy.key, -LOG_EVERY_S) < LOG_EVERY_S:
            self._unlogged[copy.key] += 1  # one line a minute, not one per request
            return
        message = exc.message if isinstance(exc, NoriaError) else f"{type(exc).__name__}: {exc}"
        since = self._unlogged.pop(copy.key, 0)
        more = f" ({since} more failures since the last report)" if since else ""
        logger.warning(
            "deployment %r: shadow %s (version %s) failed on a copy of request %s: %s%s; "
            "the live answer was not affected",
            copy.route.deployment,
            copy.shadow.route.model_uri,
            copy.shadow.version,
            copy.call.request_id,
            message,
            more,
        )
        self._logged_at[copy.key] = now


def _shadow_inputs(call: PredictionCall, route: RouteTaken, shadow: RouteEndpoint) -> ModelInput:
    """The live request's rows for the shadow's model: the same arrays when the signatures
    agree, else the request validated again against the shadow's signature."""
    signature = shadow.endpoint.served.signature
    if signature == call.endpoint.served.signature:
        return call.inputs
    return validate(signature, route.payload, model=shadow.endpoint.name)
