"""Errors as JSON answers on the model server: ``{"error_code", "message"}`` and more.

A request that does not fit the signature adds ``problems`` (one ``{field, expected, got}``
each). Under ``/v2`` the body also has ``error``, the field Open Inference clients read.
Errors on prediction routes carry the request's ``X-Request-ID``. Only a model's own failure
(``MODEL_ERROR``) and a bug answer 5xx; a bad request never does.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from noria.errors import NoriaError
from noria.serving.errors import DeploymentPaused, FeedbackRejected, InputRejected
from noria.serving.json_response import JsonResponse

logger = logging.getLogger("noria.serving")
REQUEST_ID_HEADER = "X-Request-ID"
MODEL_VERSION_HEADER = "X-Model-Version"  # the registered version that answered
ROUTE_HEADER = "X-Deployment-Route"  # the deployment route that answered: primary or canary
_CODES_BY_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def error_response(
    request: Request, status: int, code: str, message: str, **extra: Any
) -> JsonResponse:
    body: dict[str, Any] = {"error_code": code, "message": message, **extra}
    if request.url.path.startswith("/v2"):
        body["error"] = message
    request_id = getattr(request.state, "request_id", None)
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    return JsonResponse(body, status_code=status, headers=headers)


async def _noria_error(request: Request, exc: Exception) -> JsonResponse:
    if not isinstance(exc, NoriaError):  # pragma: no cover - registered for NoriaError only
        raise exc
    if exc.http_status >= 500 and not isinstance(exc, DeploymentPaused):  # paused: on purpose
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    extra: dict[str, Any] = {}
    if isinstance(exc, InputRejected | FeedbackRejected):
        extra["problems"] = [problem.as_json() for problem in exc.problems]
    return error_response(request, exc.http_status, exc.error_code, exc.message, **extra)


async def _validation_error(request: Request, exc: Exception) -> JsonResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    problems = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "expected": str(error.get("msg")),
            "got": repr(error.get("input")),
        }
        for error in exc.errors()
    ]
    message = "invalid request: " + "; ".join(f"{p['field']}: {p['expected']}" for p in problems)
    return error_response(request, 400, "INVALID_ARGUMENT", message, problems=problems)


async def _http_error(request: Request, exc: Exception) -> JsonResponse:
    if not isinstance(exc, HTTPException):  # pragma: no cover
        raise exc
    code = _CODES_BY_STATUS.get(exc.status_code, "HTTP_ERROR")
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return error_response(request, exc.status_code, code, message)


async def _unexpected_error(request: Request, exc: Exception) -> JsonResponse:
    logger.exception("%s %s failed", request.method, request.url.path)
    return error_response(request, 500, "INTERNAL_ERROR", f"internal error: {type(exc).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NoriaError, _noria_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
