"""The only translation of errors into HTTP answers: ``{"error_code", "message"}``.

Under MLflow's paths the codes and statuses are MLflow's, because its client branches
on them (e.g. ``RESOURCE_DOES_NOT_EXIST`` makes ``set_experiment`` create one).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from noria.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NoriaError,
    NotFound,
    Unsupported,
)

logger = logging.getLogger("noria.server")

_CODES_BY_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
_MLFLOW_PATHS = (
    "/api/2.0/mlflow/",
    "/ajax-api/2.0/mlflow/",
    "/api/2.0/mlflow-artifacts/",
    "/api/3.0/mlflow/",
)
# MLflow's client falls back to other endpoints on ENDPOINT_NOT_FOUND.
_MLFLOW_CODES_BY_STATUS = {
    400: "INVALID_PARAMETER_VALUE",
    404: "ENDPOINT_NOT_FOUND",
    405: "ENDPOINT_NOT_FOUND",
}
_MLFLOW_CODES_BY_ERROR: tuple[tuple[type[NoriaError], int, str], ...] = (
    (NotFound, 404, "RESOURCE_DOES_NOT_EXIST"),
    (AlreadyExists, 400, "RESOURCE_ALREADY_EXISTS"),
    (InvalidArgument, 400, "INVALID_PARAMETER_VALUE"),
    (Conflict, 400, "INVALID_PARAMETER_VALUE"),
    # 501, not 500: the client retries a 500 several times with backoff, to no avail here.
    (Unsupported, 501, "NOT_IMPLEMENTED"),
)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=status)


def _is_mlflow(request: Request) -> bool:
    return f"{request.url.path}/".startswith(_MLFLOW_PATHS)


def _mlflow_status_and_code(exc: NoriaError) -> tuple[int, str]:
    for cls, status, code in _MLFLOW_CODES_BY_ERROR:
        if isinstance(exc, cls):
            return status, code
    return 500, "INTERNAL_ERROR"


async def _noria_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, NoriaError):  # pragma: no cover - registered for NoriaError only
        raise exc
    if exc.http_status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    if _is_mlflow(request):
        return error_response(*_mlflow_status_and_code(exc), exc.message)
    return error_response(exc.http_status, exc.error_code, exc.message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append(f"{where}: {error.get('msg')} (got {error.get('input')!r})")
    message = "Invalid request: " + "; ".join(problems)
    code = "INVALID_PARAMETER_VALUE" if _is_mlflow(request) else "INVALID_ARGUMENT"
    return error_response(400, code, message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):  # pragma: no cover
        raise exc
    if _is_mlflow(request):
        fallback = "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR"
        code = _MLFLOW_CODES_BY_STATUS.get(exc.status_code, fallback)
    else:
        code = _CODES_BY_STATUS.get(exc.status_code, "HTTP_ERROR")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    message = f"{request.method} {request.url.path}: {detail}"
    return error_response(exc.status_code, code, message)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("%s %s failed", request.method, request.url.path)
    return error_response(500, "INTERNAL_ERROR", f"Internal error: {type(exc).__name__}.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NoriaError, _noria_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
