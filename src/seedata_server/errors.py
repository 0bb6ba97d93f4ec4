"""Every failure becomes the documented error body (SPEC §1.1); nothing else ever reaches a client."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

from seedata_core.errors import (
    AuthenticationFailed,
    CameraNotEnabled,
    NoCurrentImage,
    NotFound,
    StorageUnavailable,
    Throttled,
    ValidationFailed,
)

from .responses import error_response, json_response

log = logging.getLogger("seedata.server")

# The original framework's names where they differ from the HTTP reason phrase.
NAMES = {
    422: "Unprocessable entity",
    413: "Payload Too Large",
    502: "Bad Gateway or Proxy Error",
}
INVALID_CREDENTIALS = "Your request was made with invalid credentials."
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


def status_name(status: int) -> str:
    if status in NAMES:
        return NAMES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str) -> dict[str, object]:
    """The framework's error object, for bodies that add fields to it (the 502 of a trigger)."""
    return {"name": status_name(status), "message": message, "code": 0, "status": status}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response[bytes]:
    return error_response(status, status_name(status), message, headers)


class InvalidToken(AuthenticationFailed):
    """A request's bearer token is missing or unusable (as opposed to a failed login)."""

    def __init__(self) -> None:
        super().__init__(INVALID_CREDENTIALS)


class BadJson(Exception):
    """The request body is not valid JSON."""


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 404:
        return error(404, "Page not found.")
    if status == 405:
        allow = headers.get("allow") or headers.get("Allow") or ""
        allowed = {m.strip() for m in allow.split(",") if m.strip()} | {"OPTIONS"}
        if "GET" in allowed:
            allowed.add("HEAD")  # answered as GET without the body (head.py)
        methods = ", ".join(sorted(allowed))
        return error(
            405,
            f"Method Not Allowed. This URL can only handle the following request methods: {methods}.",
            {"Allow": methods},
        )
    if status == 413:
        limit = request.app.state.get("max_body_size")
        return error(413, f"The request body is larger than the limit of {limit} bytes.")
    if status >= 500:
        return _unexpected(request, exc)
    return error(status, exc.detail or status_name(status), headers or None)


def _validation(_: Request[Any, Any, Any], exc: ValidationFailed) -> Response[bytes]:
    return json_response(exc.errors, 422)


def _auth(_: Request[Any, Any, Any], exc: AuthenticationFailed) -> Response[bytes]:
    if isinstance(exc, InvalidToken):
        return error(401, INVALID_CREDENTIALS, BEARER_CHALLENGE)
    return error(401, str(exc))


def _throttled(_: Request[Any, Any, Any], exc: Throttled) -> Response[bytes]:
    return error(429, str(exc), {"Retry-After": str(exc.retry_after)})


def _not_found(_: Request[Any, Any, Any], exc: NotFound) -> Response[bytes]:
    return error(404, str(exc))


def _camera_not_enabled(_: Request[Any, Any, Any], exc: CameraNotEnabled) -> Response[bytes]:
    return error(405, str(exc))


def _no_current_image(_: Request[Any, Any, Any], exc: NoCurrentImage) -> Response[bytes]:
    return error(422, str(exc))


def _bad_json(_: Request[Any, Any, Any], exc: BadJson) -> Response[bytes]:
    return error(400, f"Invalid JSON data in request body: {exc}")


def _unavailable(_: Request[Any, Any, Any], exc: StorageUnavailable) -> Response[bytes]:
    log.error("storage unavailable: %s", exc)
    return error(503, "The service is temporarily unavailable.", {"Retry-After": "5"})


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error(500, "An internal server error occurred.")


exception_handlers: ExceptionHandlersMap = {
    HTTPException: _http,
    ValidationFailed: _validation,
    AuthenticationFailed: _auth,
    Throttled: _throttled,
    NotFound: _not_found,
    CameraNotEnabled: _camera_not_enabled,
    NoCurrentImage: _no_current_image,
    BadJson: _bad_json,
    StorageUnavailable: _unavailable,
    Exception: _unexpected,
}
