"""Health, the models and deployments served, Open Inference metadata and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from noria import __version__
from noria.serving.calls import serving_state
from noria.serving.deployment_view import DeploymentView
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
    return JsonResponse(
        {
            "status": "ready",
            "models": sorted(state.endpoints),
            "deployments": sorted(state.deployments),
        }
    )


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


@router.get("/v1/deployments", tags=["deployments"])
async def list_deployments(request: Request) -> Response:
    """Every served deployment: status, sticky key, revision, and per route its role, traffic,
    the version serving it now and the last failed swap, if any."""
    state = serving_state(request)
    views = state.deployments.values()
    return JsonResponse({"deployments": [_describe_deployment(state, view) for view in views]})


@router.get("/v1/deployments/{name}", tags=["deployments"])
async def show_deployment(name: ModelName, request: Request) -> Response:
    state = serving_state(request)
    return JsonResponse(_describe_deployment(state, state.deployment(name)))


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
    """A model's inputs and outputs; for a deployment, its primary's, under its name."""
    state = serving_state(request)
    view = state.deployments.get(name)
    if view is not None:
        return JsonResponse(_metadata(view.primary.endpoint, name))
    return JsonResponse(_metadata(state.endpoint(name)))


@router.get("/v2/models/{name}/versions/{version}", tags=["open inference"])
async def v2_model_version(name: ModelName, version: str, request: Request) -> Response:
    state = serving_state(request)
    view = state.deployments.get(name)
    if view is not None:
        return JsonResponse(_metadata(view.answering_version(version).endpoint, name))
    return JsonResponse(_metadata(versioned(state.endpoint(name), version)))


@router.get("/v2/models/{name}/ready", tags=["open inference"])
async def v2_model_ready(name: ModelName, request: Request) -> Response:
    """Ready once loaded; a paused deployment is not ready."""
    state = serving_state(request)
    view = state.deployments.get(name)
    if view is None:
        state.endpoint(name)  # 404 for a name that is not served
    is_ready = state.ready and (view is None or not view.paused)
    return JsonResponse({"name": name, "ready": is_ready}, status_code=200 if is_ready else 503)


@router.get("/v2/models/{name}/versions/{version}/ready", tags=["open inference"])
async def v2_model_version_ready(name: ModelName, version: str, request: Request) -> Response:
    state = serving_state(request)
    view = state.deployments.get(name)
    if view is None:
        versioned(state.endpoint(name), version)  # 404 unless that version is served
    else:
        view.answering_version(version)
    is_ready = state.ready and (view is None or not view.paused)
    return JsonResponse({"name": name, "ready": is_ready}, status_code=200 if is_ready else 503)


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


def _describe_deployment(state: ServingState, view: DeploymentView) -> dict[str, Any]:
    deployment = view.deployment
    routes = []
    for taken in view.routes:
        error = state.route_errors.get((view.name, taken.route.model_uri))
        routes.append(
            {
                "uri": taken.route.model_uri,
                "role": taken.role.value,
                "percent": taken.route.percent,
                "model": taken.route.model_name,
                "version": taken.version,
                "batching": taken.endpoint.batcher.config.model_dump(),
                "last_swap_error": None if error is None else error.as_json(),
            }
        )
    return {
        "name": view.name,
        "status": deployment.status.value,
        "sticky_key": deployment.sticky_key,
        "revision": deployment.revision,
        "watched": state.config.watch_interval_s > 0,
        "routes": routes,
    }


def _metadata(endpoint: ModelEndpoint, name: str | None = None) -> dict[str, Any]:
    served = endpoint.served
    return model_metadata(name or served.name, served.version, served.flavor, served.signature)
