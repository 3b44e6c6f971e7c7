"""The only translation of errors into HTTP answers: ``{"error_code", "message"}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from noria.errors import NoriaError

logger = logging.getLogger("noria.server")

_CODES_BY_STATUS = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=status)


async def _noria_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, NoriaError):  # pragma: no cover - registered for NoriaError only
        raise exc
    if exc.http_status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return error_response(exc.http_status, exc.error_code, exc.message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append(f"{where}: {error.get('msg')} (got {error.get('input')!r})")
    message = "Invalid request: " + "; ".join(problems)
    return error_response(400, "INVALID_ARGUMENT", message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):  # pragma: no cover
        raise exc
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
