"""The one error shape of the spec, for every failure the API can answer with."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.service import RPCError, RPCStatusCode

from api.security_headers import SECURITY_HEADERS

log = logging.getLogger("switchboard.api")

MESSAGE_IDS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "BAD_REQUEST",
    409: "CONFLICT",
    411: "BAD_REQUEST",
    413: "BAD_REQUEST",
    415: "BAD_REQUEST",
    429: "TOO_MANY_REQUESTS",
}


class ApiError(Exception):
    def __init__(
        self, status: int, text: str, validation_errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.validation_errors = validation_errors
        self.headers = headers


def bad_request(field: str, message: str) -> ApiError:
    return ApiError(400, "Bad request", {field: [message]})


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


# How long a client is asked to wait before trying again after a 503.
RETRY_AFTER_SECONDS = 5
# Temporal cannot be reached or answer now: worth trying again later.
TEMPORAL_UNREACHABLE = {
    RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED,
}


def unavailable(text: str) -> ApiError:
    return ApiError(503, text, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def error_response(
    status: int, text: str, validation_errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    exception: dict[str, Any] = {"messageId": MESSAGE_IDS.get(status, "GENERAL_ERROR"), "text": text}
    if validation_errors:
        exception["validationErrors"] = validation_errors
    return JSONResponse(
        {"requestError": {"serviceException": exception}}, status_code=status, headers=headers
    )


def field_path(loc: tuple[Any, ...]) -> str:
    """('body', 2, 'expression') -> '[2].expression', as the spec writes paths."""
    path = ""
    for part in loc:
        if part in ("body", "query", "path", "header") and path == "":
            continue
        if part == "[key]":  # pydantic's marker for a dict key: the key itself is named already
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def validation_errors_of(
    exc: RequestValidationError | ValidationError, prefix: tuple[Any, ...] = ()
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            errors.setdefault("body", []).append("Malformed JSON")
            continue
        message = error.get("msg", "Invalid value")
        if error.get("type") == "extra_forbidden":
            message = "Unknown field"
        errors.setdefault(field_path((*prefix, *error.get("loc", ()))), []).append(message)
    return errors


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path takes (a 405's Allow header, RFC 9110)."""
    methods: set[str] = set()
    for route in getattr(request.app.state, "api_routes", []):
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.text, exc.validation_errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "Bad request", validation_errors_of(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        text = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {"Allow": ", ".join(_allowed_methods(request))}
        return error_response(exc.status_code, text, headers=headers)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        if exc.status in TEMPORAL_UNREACHABLE:
            log.warning("Temporal unreachable on %s %s: %s", request.method, request.url.path, exc)
            return error_response(503, "Temporal cannot be reached now; nothing was changed",
                                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Answered by Starlette's outermost middleware, outside api.security_headers.
        return error_response(500, "Internal error", headers=SECURITY_HEADERS)
