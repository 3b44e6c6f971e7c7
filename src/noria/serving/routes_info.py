"""Health, the models served, Open Inference metadata and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from noria import __version__
from noria.serving.calls import serving_state
from noria.serving.json_response import JsonResponse
from noria.serving.open_inference_answers import model_metadata
from noria.serving.routes_predict import versioned
from noria.serving.state import ModelEndpoint, ServingState

router = APIRouter()

ModelName = Annotated[str, Path(description="The name the model is served under.")]


@router.get("/health/live", tags=["health"])
async def live() -> Response:
    """200 while the process answers."""
    return JsonResponse({"status": "live"})


@router.get("/health/ready", tags=["health"])
async def ready(request: Request) -> Response:
    """200 once every model is loaded and warmed; 503 before that and while shutting down."""
    state = serving_state(request)
    if not state.ready:
        return JsonResponse({"status": "not ready"}, status_code=503)
    return JsonResponse({"status": "ready", "models": sorted(state.endpoints)})


@router.get("/v1/models", tags=["models"])
async def list_models(request: Request) -> Response:
    """Every served model: name, URI, version, flavor, signature, batching, and whether its
    alias is watched (with the last failed swap, if any)."""
    state = serving_state(request)
    return JsonResponse({"models": [_describe(state, e) for e in state.endpoints.values()]})


@router.get("/v1/models/{name}", tags=["models"])
async def show_model(name: ModelName, request: Request) -> Response:
    state = serving_state(request)
    return JsonResponse(_describe(state, state.endpoint(name)))


@router.get("/v2/health/live", tags=["open inference"])
async def v2_live() -> Response:
    return JsonResponse({"live": True})


@router.get("/v2/health/ready", tags=["open inference"])
async def v2_ready(request: Request) -> Response:
    is_ready = serving_state(request).ready
    return JsonResponse({"ready": is_ready}, status_code=200 if is_ready else 503)


@router.get("/v2", tags=["open inference"])
async def v2_server() -> Response:
    return JsonResponse({"name": "noria", "version": __version__, "extensions": []})


@router.get("/v2/models/{name}", tags=["open inference"])
async def v2_model(name: ModelName, request: Request) -> Response:
    return JsonResponse(_metadata(serving_state(request).endpoint(name)))


@router.get("/v2/models/{name}/versions/{version}", tags=["open inference"])
async def v2_model_version(name: ModelName, version: str, request: Request) -> Response:
    return JsonResponse(_metadata(versioned(serving_state(request).endpoint(name), version)))


@router.get("/v2/models/{name}/ready", tags=["open inference"])
async def v2_model_ready(name: ModelName, request: Request) -> Response:
    state = serving_state(request)
    endpoint = state.endpoint(name)
    return JsonResponse(
        {"name": endpoint.name, "ready": state.ready}, status_code=200 if state.ready else 503
    )


@router.get("/v2/models/{name}/versions/{version}/ready", tags=["open inference"])
async def v2_model_version_ready(name: ModelName, version: str, request: Request) -> Response:
    state = serving_state(request)
    endpoint = versioned(state.endpoint(name), version)
    return JsonResponse(
        {"name": endpoint.name, "ready": state.ready}, status_code=200 if state.ready else 503
    )


@router.get("/metrics", tags=["metrics"])
async def metrics(request: Request) -> Response:
    """Prometheus text format (the series are listed in docs/serving.md)."""
    body, content_type = serving_state(request).metrics.exposition()
    return Response(body, media_type=content_type)


def _describe(state: ServingState, endpoint: ModelEndpoint) -> dict[str, Any]:
    served = endpoint.served
    signature = served.signature
    swap_error = state.swap_errors.get(served.name)
    return {
        "name": served.name,
        "uri": served.source.config.uri,
        "registered_model": served.source.registered_name,
        "version": served.version,
        "flavor": served.flavor,
        "signature": None if signature is None else signature.model_dump(mode="json"),
        "batching": endpoint.batcher.config.model_dump(),
        "watched": served.name in state.watched,
        "last_swap_error": None if swap_error is None else swap_error.as_json(),
    }


def _metadata(endpoint: ModelEndpoint) -> dict[str, Any]:
    served = endpoint.served
    return model_metadata(served.name, served.version, served.flavor, served.signature)
