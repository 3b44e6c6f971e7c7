"""One prediction request, whatever its protocol: read, check, batch, answer, count, log.

The order matters: the body is read under the size limit, parsed and validated against the
signature before anything is queued, so a bad request never reaches the model. The answer is
counted in the metrics, and offered to the prediction sink only after it has been sent (then
too, for a deployment, its shadows get their copies: :mod:`noria.serving.shadows`).
Requests to a deployment pick their route in :mod:`noria.serving.routed`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from starlette.background import BackgroundTask

from noria.domain.deployments import RouteRole
from noria.domain.ids import new_id
from noria.errors import InvalidArgument, NoriaError
from noria.predictions.records import PredictionRecord
from noria.serving.errors import ModelFailed, PayloadTooLarge, UnsupportedMediaType
from noria.serving.http_errors import MODEL_VERSION_HEADER, REQUEST_ID_HEADER, ROUTE_HEADER
from noria.serving.json_response import JsonResponse
from noria.serving.loading import ServedModel
from noria.serving.metrics import UNKNOWN_MODEL, version_label
from noria.serving.model_input import ModelInput
from noria.serving.payloads import Payload
from noria.serving.predictions import Predictions
from noria.serving.state import ModelEndpoint, ServingState
from noria.serving.validation import validate

Protocol = Literal["native", "mlflow", "v2"]
ParseFn = Callable[[bytes], Payload]
# Checks that need the model (Open Inference's requested outputs); they add to the problems.
CheckFn = Callable[[Payload, ServedModel], None]
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")  # visible ASCII, no spaces


@dataclass(frozen=True, slots=True)
class RouteTaken:
    """The deployment route that answered a request."""

    deployment: str
    role: RouteRole
    model: str  # the registered model: the prediction log's stream
    payload: Payload  # the request as parsed: each shadow validates it for its own model


@dataclass(frozen=True, slots=True)
class PredictionCall:
    """A request that was predicted: what came in and what the model answered."""

    endpoint: ModelEndpoint
    request_id: str
    inputs: ModelInput
    predictions: Predictions
    started: float  # perf_counter at arrival
    arrived_ms: int  # ms since the epoch
    route: RouteTaken | None = None  # set when the request came through a deployment


def serving_state(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving
    return state


async def run_prediction(
    request: Request,
    select: Callable[[], ModelEndpoint],
    protocol: Protocol,
    parse: ParseFn,
    check: CheckFn | None = None,
) -> PredictionCall:
    """Predict one request on the endpoint ``select`` names; errors are counted, then raised."""
    state = serving_state(request)
    started, arrived_ms = time.perf_counter(), time.time_ns() // 1_000_000
    endpoint: ModelEndpoint | None = None
    try:
        request_id = request_id_of(request)
        endpoint = select()  # kept to the end: a hot swap meanwhile does not change it
        gauge = endpoint.series.in_flight
        gauge.inc()
        try:
            with endpoint.batcher.incoming():
                body = await read_body(request, state.config.max_body_bytes)
                payload = parse(body)
                if check is not None:
                    check(payload, endpoint.served)
                inputs = validate(endpoint.served.signature, payload, model=endpoint.name)
                pending = endpoint.batcher.submit(inputs)
            predictions = await pending
        finally:
            gauge.dec()
    except Exception as exc:
        failed = exc if isinstance(exc, NoriaError) else None
        status = 500 if failed is None else failed.http_status
        code = "INTERNAL_ERROR" if failed is None else failed.error_code
        latency = count_answer(state, endpoint, protocol, status, started, error_code=code)
        if endpoint is not None:
            log_failure(
                request, endpoint, model=endpoint.name, status=status, code=code,
                latency=latency, arrived_ms=arrived_ms,
            )  # fmt: skip
        raise
    return PredictionCall(endpoint, request_id, inputs, predictions, started, arrived_ms)


def log_failure(
    request: Request,
    endpoint: ModelEndpoint,
    *,
    model: str,
    status: int,
    code: str,
    latency: float,
    arrived_ms: int,
    route: tuple[str, str] | None = None,
) -> None:
    """Offer a failed request to the prediction log (status and error code, no rows), so
    monitors can report error rates. ``route`` is (deployment, role) behind a deployment."""
    state = serving_state(request)
    request_id = getattr(request.state, "request_id", None)
    if state.sink is None or request_id is None:  # no log, or the request id was refused
        return
    record = PredictionRecord(
        request_id=request_id,
        model=model,
        version=endpoint.served.version,
        deployment=None if route is None else route[0],
        inputs=[],
        outputs=[],
        latency_ms=latency * 1000,
        time_ms=arrived_ms,
        role=None if route is None else route[1],
        status=status,
        error=code,
    )
    if not state.sink.offer(record):
        state.metrics.dropped_predictions.labels(record.model).inc()


def answer(
    request: Request,
    call: PredictionCall,
    protocol: Protocol,
    body: dict[str, Any],
    outputs: list[Any] | None,
) -> JsonResponse:
    """The 200 answer; counts it and, once it has been sent, logs it (when a sink is set)
    and sends a deployment's shadows their copies.

    ``outputs`` are the per-row predictions when the caller already computed them."""
    state = serving_state(request)
    headers = {REQUEST_ID_HEADER: call.request_id}
    version = call.endpoint.served.version
    if version is not None:
        headers[MODEL_VERSION_HEADER] = str(version)
    if call.route is not None:
        headers[ROUTE_HEADER] = call.route.role.value
    try:
        response = JsonResponse(body, headers=headers)
    except TypeError as exc:  # the model answered with objects JSON cannot hold
        failure = ModelFailed(
            f"model {call.endpoint.name!r} answered with values that cannot be sent as JSON "
            f"({exc}); make it return numbers, text or booleans"
        )
        count_answer(
            state, call.endpoint, protocol, 500, call.started,
            error_code=failure.error_code, deployment=_counted_route(call),
        )  # fmt: skip
        raise failure from exc
    latency = count_answer(
        state, call.endpoint, protocol, 200, call.started, deployment=_counted_route(call)
    )
    if state.sink is not None or call.route is not None:
        response.background = BackgroundTask(_after_answer, state, call, outputs, latency)
    return response


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def require_json(request: Request) -> None:
    """415 unless the body is declared JSON (or not declared at all)."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"the body is declared {media_type!r}; this route takes JSON: send "
            "Content-Type: application/json"
        )


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than this server's limit of {limit} bytes (at least "
        f"{size} bytes); send fewer rows per request, or raise the limit (--max-body-mb)"
    )


def request_id_of(request: Request) -> str:
    """The caller's ``X-Request-ID`` when it is usable, else a new id."""
    given = request.headers.get(REQUEST_ID_HEADER)
    if given is not None and not _REQUEST_ID.fullmatch(given):
        raise InvalidArgument(
            f"{REQUEST_ID_HEADER} {given[:40]!r} must be 1 to 128 visible ASCII characters "
            "without spaces; send another or leave the header out to get one"
        )
    request_id = given or new_id()
    request.state.request_id = request_id
    return request_id


def count_answer(
    state: ServingState,
    endpoint: ModelEndpoint | None,
    protocol: Protocol,
    status: int,
    started: float,
    *,
    error_code: str | None = None,
    deployment: tuple[str, str] | None = None,
) -> float:
    """Count one answer; with ``deployment`` = (name, role), under that deployment's route
    too (role ``""`` when it failed before a route was picked). Returns its latency in s."""
    elapsed = time.perf_counter() - started
    if deployment is not None:
        version = None if endpoint is None else endpoint.served.version
        state.metrics.deployment_requests.labels(
            *deployment, version_label(version), str(status)
        ).inc()
    if endpoint is None:
        metrics = state.metrics
        metrics.requests.labels(UNKNOWN_MODEL, "", protocol, str(status)).inc()
        if error_code is not None:
            metrics.errors.labels(UNKNOWN_MODEL, "", str(status), error_code).inc()
        return elapsed
    endpoint.series.answered(protocol, status, elapsed)
    if error_code is not None:
        endpoint.series.failed(status, error_code)
    return elapsed


def _counted_route(call: PredictionCall) -> tuple[str, str] | None:
    route = call.route
    return None if route is None else (route.deployment, route.role.value)


async def _after_answer(
    state: ServingState, call: PredictionCall, outputs: list[Any] | None, latency: float
) -> None:
    """Once the answer is sent: log it, then hand the shadows their copies (never awaited)."""
    route = call.route
    if state.sink is not None:
        record = PredictionRecord(
            request_id=call.request_id,
            model=call.endpoint.name if route is None else route.model,
            version=call.endpoint.served.version,
            deployment=None if route is None else route.deployment,
            inputs=call.inputs.row_dicts(),
            outputs=outputs if outputs is not None else call.predictions.row_values(),
            latency_ms=latency * 1000,
            time_ms=call.arrived_ms,
            role=None if route is None else route.role.value,
        )
        if not state.sink.offer(record):
            state.metrics.dropped_predictions.labels(record.model).inc()
    if route is not None and state.shadows is not None:
        state.shadows.send(state, call, route)
