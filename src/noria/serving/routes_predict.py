"""The three ways to ask for predictions: Noria's native route, MLflow's ``/invocations`` and
the Open Inference Protocol's ``infer``. Each only parses its body and shapes its answer;
:mod:`noria.serving.calls` does the rest, after :mod:`noria.serving.routed` has picked the
route when the name is a deployment's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from noria.errors import NotFound
from noria.serving.calls import (
    CheckFn,
    ParseFn,
    PredictionCall,
    Protocol,
    answer,
    require_json,
    run_prediction,
    serving_state,
)
from noria.serving.loading import ServedModel
from noria.serving.open_inference import InferRequest, parse_infer_request
from noria.serving.open_inference_answers import check_requested_outputs, output_tensors
from noria.serving.payloads import Payload, mlflow_payload, native_payload, parse_json
from noria.serving.routed import run_routed
from noria.serving.state import ModelEndpoint

router = APIRouter()

ModelName = Annotated[str, Path(description="The name the model is served under.")]

_ROWS = {"type": "array", "items": {"type": "object"}, "minItems": 1}
_NATIVE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "object", "required": ["records"], "properties": {"records": _ROWS}},
                    {
                        "type": "object",
                        "required": ["columns"],
                        "properties": {"columns": {"type": "object"}},
                    },
                ]
            },
            "example": {"records": [{"age": 31, "city": "Oslo"}]},
        }
    },
}
_MLFLOW_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "dataframe_split": {"type": "object"},
                    "dataframe_records": _ROWS,
                    "instances": {"type": "array"},
                    "inputs": {},
                },
            },
            "example": {"dataframe_split": {"columns": ["age", "city"], "data": [[31, "Oslo"]]}},
        }
    },
}
_V2_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["inputs"],
                "properties": {
                    "id": {"type": "string"},
                    "inputs": {"type": "array", "items": {"type": "object"}},
                    "outputs": {"type": "array", "items": {"type": "object"}},
                },
            },
            "example": {
                "inputs": [{"name": "age", "shape": [1], "datatype": "INT64", "data": [31]}]
            },
        }
    },
}


@router.post(
    "/v1/models/{name}/predict",
    tags=["predict"],
    openapi_extra={"requestBody": _NATIVE_BODY},
    summary="Predict with Noria's JSON: records or columns",
)
async def predict(name: ModelName, request: Request) -> Response:
    """``{"records": [...]}`` or ``{"columns": {...}}``; answers the predictions, the model's
    name and version and the request id (also in ``X-Request-ID``). For a deployment, also
    the deployment and the ``route`` that answered (``primary`` or ``canary``)."""
    require_json(request)
    call = await _predict_on(request, name, "native", _native)
    values = call.predictions.row_values()
    body: dict[str, Any] = {
        "model": call.endpoint.name,
        "version": call.endpoint.served.version,
        "request_id": call.request_id,
        "predictions": values,
    }
    if call.route is not None:
        body["model"] = call.route.model
        body["deployment"] = call.route.deployment
        body["route"] = call.route.role.value
    return answer(request, call, "native", body, values)


@router.post(
    "/invocations",
    tags=["predict"],
    openapi_extra={"requestBody": _MLFLOW_BODY},
    summary="Predict with MLflow's scoring-server formats",
)
async def invocations(
    request: Request,
    model: Annotated[str | None, Query(description="Which model, when several are served.")] = None,
) -> Response:
    """dataframe_split, dataframe_records, instances or inputs; answers ``{"predictions"}``."""
    require_json(request)
    name = serving_state(request).invocation_target(model)
    call = await _predict_on(request, name, "mlflow", _mlflow)
    values = call.predictions.row_values()
    return answer(request, call, "mlflow", {"predictions": values}, values)


@router.post(
    "/v2/models/{name}/infer",
    tags=["open inference"],
    openapi_extra={"requestBody": _V2_BODY},
    summary="Open Inference Protocol (KServe V2) inference",
)
async def infer(name: ModelName, request: Request) -> Response:
    return await _infer(request, name, None)


@router.post(
    "/v2/models/{name}/versions/{version}/infer",
    tags=["open inference"],
    openapi_extra={"requestBody": _V2_BODY},
    summary="Open Inference Protocol inference on a given model version",
)
async def infer_version(name: ModelName, version: str, request: Request) -> Response:
    return await _infer(request, name, version)


async def _infer(request: Request, name: str, version: str | None) -> Response:
    state = serving_state(request)
    parsed: list[InferRequest] = []

    def parse(body: bytes) -> Payload:
        found = parse_infer_request(body, request.headers.get("inference-header-content-length"))
        parsed.append(found)
        return found.payload

    def check(payload: Payload, served: ServedModel) -> None:
        check_requested_outputs(parsed[0].outputs, served.signature, payload.problems)

    if name in state.deployments:
        call = await run_routed(request, name, "v2", parse, check, version=version)
    else:

        def select() -> ModelEndpoint:
            return versioned(state.endpoint(name), version)

        call = await run_prediction(request, select, "v2", parse, check)
    body: dict[str, Any] = {
        "model_name": name,
        "id": parsed[0].id or call.request_id,
        "outputs": output_tensors(call.predictions, parsed[0].outputs),
    }
    if call.endpoint.served.version is not None:
        body["model_version"] = str(call.endpoint.served.version)
    return answer(request, call, "v2", body, None)


def versioned(endpoint: ModelEndpoint, version: str | None) -> ModelEndpoint:
    """The endpoint when it serves ``version`` (or any version is asked); NotFound otherwise."""
    served = endpoint.served.version
    if version is None or version == str(served):
        return endpoint
    serves = "no registered version" if served is None else f"version {served}"
    raise NotFound(f"model {endpoint.name!r} version {version!r} is not served; it serves {serves}")


async def _predict_on(
    request: Request, name: str, protocol: Protocol, parse: ParseFn, check: CheckFn | None = None
) -> PredictionCall:
    """Predict on the deployment named ``name`` when there is one, else on the model."""
    state = serving_state(request)
    if name in state.deployments:
        return await run_routed(request, name, protocol, parse, check)
    return await run_prediction(request, lambda: state.endpoint(name), protocol, parse, check)


def _native(body: bytes) -> Payload:
    return native_payload(parse_json(body))


def _mlflow(body: bytes) -> Payload:
    return mlflow_payload(parse_json(body))
