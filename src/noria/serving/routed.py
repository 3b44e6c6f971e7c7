"""A prediction request to a deployment: pick its route, then predict as for any model.

The route depends on the request: a caller's sticky key (the deployment's ``sticky_key``,
read from a header of that name, else from that field of the first row) always lands on
the same route; without one a random draw splits the traffic by the routes' percentages
(:func:`noria.deployments.routing.choose_route`).

When the route does not depend on the body (no sticky key, or a header carries it) it is
picked first and its batcher told a request is being received, as for a model: the batch
waits for it, and a watcher retiring that route waits until it is queued. When the key is in
the body, the body is read first; then the deployment's current view is taken, the route
picked, the rows validated and queued, without an await in between, so a route retired
meanwhile is never handed a request.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from typing import Any

from fastapi import Request

from noria.errors import NoriaError
from noria.serving.calls import (
    CheckFn,
    ParseFn,
    PredictionCall,
    Protocol,
    RouteTaken,
    count_answer,
    log_failure,
    read_body,
    request_id_of,
    serving_state,
)
from noria.serving.deployment_view import DeploymentView, RouteEndpoint
from noria.serving.model_input import ModelInput
from noria.serving.payloads import INVALID, MISSING, Payload
from noria.serving.predictions import Predictions
from noria.serving.validation import validate

_MAX_KEY_LENGTH = 1024  # a longer "key" is not an id; it is hashed all the same, but cut


async def run_routed(
    request: Request,
    name: str,
    protocol: Protocol,
    parse: ParseFn,
    check: CheckFn | None = None,
    *,
    version: str | None = None,
) -> PredictionCall:
    """Predict one request to deployment ``name`` on the route it picks (or on the answering
    route serving ``version``, when the caller asks for one); errors are counted, then raised.
    """
    state = serving_state(request)
    started, arrived_ms = time.perf_counter(), time.time_ns() // 1_000_000
    taken: RouteEndpoint | None = None
    try:
        request_id = request_id_of(request)
        view = state.deployment(name)
        view.check_active()  # refuse early, before reading the body
        if _key_in_body(view, request, version):
            body = await read_body(request, state.config.max_body_bytes)
            payload = parse(body)
            view = state.deployment(name)  # now: a change that arrived with the body applies
            view.check_active()
            taken = _pick(view, request, payload, version)
            inputs, pending = _queue(taken, payload, check, name)
        else:
            # Picked before the body arrives, like a model's request: the batcher waits for
            # it while it is received, and a swap retires the route only once it is queued.
            taken = _pick(view, request, None, version)
            with taken.endpoint.batcher.incoming():
                payload = parse(await read_body(request, state.config.max_body_bytes))
                inputs, pending = _queue(taken, payload, check, name)
        gauge = taken.endpoint.series.in_flight
        gauge.inc()
        try:
            predictions = await pending
        finally:
            gauge.dec()
    except Exception as exc:
        failed = exc if isinstance(exc, NoriaError) else None
        status = 500 if failed is None else failed.http_status
        code = "INTERNAL_ERROR" if failed is None else failed.error_code
        latency = count_answer(
            state, None if taken is None else taken.endpoint, protocol, status, started,
            error_code=code, deployment=(name, "" if taken is None else taken.role.value),
        )  # fmt: skip
        if taken is not None:
            log_failure(
                request, taken.endpoint, model=taken.route.model_name, status=status,
                code=code, latency=latency, arrived_ms=arrived_ms, route=(name, taken.role.value),
            )  # fmt: skip
        raise
    route = RouteTaken(name, taken.role, taken.route.model_name, payload)
    return PredictionCall(
        taken.endpoint, request_id, inputs, predictions, started, arrived_ms,
        route=route,
    )  # fmt: skip


def sticky_value(sticky_key: str, headers: Mapping[str, str], payload: Payload) -> str | None:
    """The caller's key: the header named ``sticky_key``, else that field of the first row
    (a record's field, a column's or a named tensor's first value); None when neither."""
    given = headers.get(sticky_key)
    if given:
        return given[:_MAX_KEY_LENGTH]
    values = None if payload.named is None else payload.named.get(sticky_key)
    first = _first(values)
    if first is None or first is MISSING or first is INVALID:
        return None
    if hasattr(first, "item"):  # a NumPy scalar from a binary tensor
        first = first.item()
    if isinstance(first, bytes):
        first = first.decode("utf-8", "replace")
    return str(first)[:_MAX_KEY_LENGTH]


def _key_in_body(view: DeploymentView, request: Request, version: str | None) -> bool:
    """Whether the route depends on the body: a sticky key that no header carries."""
    sticky_key = view.deployment.sticky_key
    return version is None and sticky_key is not None and not request.headers.get(sticky_key)


def _pick(
    view: DeploymentView, request: Request, payload: Payload | None, version: str | None
) -> RouteEndpoint:
    if version is not None:
        return view.answering_version(version)
    sticky_key = view.deployment.sticky_key
    key = None
    if sticky_key is not None:
        key = sticky_value(sticky_key, request.headers, payload or Payload())
    return view.pick(key, random.random())  # a uniform draw, not a secret


def _queue(
    taken: RouteEndpoint, payload: Payload, check: CheckFn | None, name: str
) -> tuple[ModelInput, asyncio.Future[Predictions]]:
    """Validate the rows for the route's model and queue them (no await: see above)."""
    served = taken.endpoint.served
    if check is not None:
        check(payload, served)
    inputs = validate(served.signature, payload, model=name)
    return inputs, taken.endpoint.batcher.submit(inputs)


def _first(values: Any) -> Any:
    """The first row's value, unwrapped from ``[[x]]`` (a tensor of shape [rows, 1])."""
    while isinstance(values, list | tuple) or getattr(values, "ndim", 0) > 0:
        if len(values) == 0:
            return None
        values = values[0]
    return values
