"""Errors → HTTP responses, in exactly one place.

Every error the service returns is JSON::

    {"success": false, "error": {"code": "...", "message": "...", "details": {...}}}

:data:`STATUS_BY_CODE` maps each error code of the domain tree
(:mod:`videogen_core.errors`) and of the HTTP layer (below) to its status;
:func:`register_error_handlers` makes Flask/werkzeug's own errors (404, 405,
413, 416...) and unexpected exceptions (500, logged, never shown) use the same
shape. Every body passes :func:`~videogen_jobs.scrub.scrub` on its way out: absolute server paths
become ``…/<name>`` and echoed values longer than :data:`ECHO_LIMIT`
characters are cut, so no answer leaks the server's layout or mirrors a
10 KB id back. The HTTP-only errors, each a :class:`~videogen_core.VideogenError`::

    Unauthorized          unauthorized             401
    MethodNotAllowed      method_not_allowed       405
    Conflict              conflict                 409
    PayloadTooLarge       payload_too_large        413
    UnsupportedMediaType  unsupported_media_type   415
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from videogen_core import (
    Busy,
    Cancelled,
    InvalidImage,
    InvalidRequest,
    MissingImage,
    NotFound,
    PathNotAllowed,
    RenderFailed,
    ServiceUnavailable,
    StorageFailed,
    UnknownVoice,
    VideogenError,
)
from videogen_jobs.errors import Conflict
from videogen_jobs.scrub import ECHO_LIMIT, scrub

__all__ = [
    "ECHO_LIMIT",
    "STATUS_BY_CODE",
    "Conflict",
    "MethodNotAllowed",
    "PayloadTooLarge",
    "Unauthorized",
    "UnsupportedMediaType",
    "code_for_status",
    "error_body",
    "error_response",
    "register_error_handlers",
    "scrub",
    "status_for",
]

log = logging.getLogger("videogen.http")


class Unauthorized(VideogenError):
    """A missing or wrong ``Authorization: Bearer`` token."""

    code = "unauthorized"


class MethodNotAllowed(VideogenError):
    """The path exists but not with this method; ``allowed`` lists the ones that do."""

    code = "method_not_allowed"


class PayloadTooLarge(VideogenError):
    """The body or an uploaded file exceeds its limit; ``limit_bytes`` says the limit."""

    code = "payload_too_large"


class UnsupportedMediaType(VideogenError):
    """The body's type is not the one this endpoint takes (JSON, an image...)."""

    code = "unsupported_media_type"


#: The one map from error code to HTTP status. Subclasses inherit their parent's
#: status unless listed (e.g. UnknownVoice and PathNotAllowed are InvalidRequests).
STATUS_BY_CODE: dict[str, int] = {
    InvalidRequest.code: 400,
    UnknownVoice.code: 400,
    PathNotAllowed.code: 400,
    Unauthorized.code: 401,
    NotFound.code: 404,
    MethodNotAllowed.code: 405,
    Cancelled.code: 409,
    Conflict.code: 409,
    PayloadTooLarge.code: 413,
    UnsupportedMediaType.code: 415,
    MissingImage.code: 422,
    InvalidImage.code: 422,
    Busy.code: 429,
    RenderFailed.code: 500,
    StorageFailed.code: 502,
    ServiceUnavailable.code: 503,
}

#: werkzeug's HTTP errors by status → our code (anything else: ``http_<status>``).
_WERKZEUG_CODES = {
    400: "invalid_request", 401: Unauthorized.code, 404: NotFound.code,
    405: MethodNotAllowed.code, 409: Conflict.code, 413: PayloadTooLarge.code,
    415: UnsupportedMediaType.code, 416: "range_not_satisfiable", 429: Busy.code,
    503: ServiceUnavailable.code,
}


def code_for_status(status: int) -> str:
    """Our error code for an HTTP status a server component chose (``http_<status>``
    when there is no better name)."""
    return _WERKZEUG_CODES.get(status, f"http_{status}")


def status_for(error: VideogenError | str) -> int:
    """The HTTP status of a domain error (or of its code); 500 for unknown codes."""
    if isinstance(error, str):
        return STATUS_BY_CODE.get(error, 500)
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return 500


def error_body(code: str, message: str, details: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    """The error envelope ``{"success": false, "error": {...}}``, passed through :func:`scrub`."""
    message, clean = scrub(message, details or {})
    return {"success": False, "error": {"code": code, "message": message, "details": clean}}


def error_response(error: VideogenError | dict[str, Any], status: int | None = None
                   ) -> Response:
    """A JSON response for a domain error (or a stored ``to_dict()``), with the
    headers its status calls for (Retry-After, WWW-Authenticate, Allow)."""
    data = error.to_dict() if isinstance(error, VideogenError) else dict(error)
    code = str(data.get("code", "internal_error"))
    details = dict(data.get("details") or {})
    status = status or (status_for(error) if isinstance(error, VideogenError)
                        else status_for(code))
    response = jsonify(error_body(code, str(data.get("message", "")), details))
    response.status_code = status
    if status == 429:
        response.headers["Retry-After"] = str(int(details.get("retry_after", 5)))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="videogen"'
    if status == 405 and details.get("allowed"):
        response.headers["Allow"] = ", ".join(details["allowed"])
    if status == 503 and "retry_after" in details:
        response.headers["Retry-After"] = str(int(details["retry_after"]))
    return response


def _from_werkzeug(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = code_for_status(status)
    details: dict[str, Any] = {}
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    if "Allow" in headers:
        details["allowed"] = [m.strip() for m in headers["Allow"].split(",")]
    message = exc.description or exc.name
    if status == 404:
        message = "no such resource"
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    for key, value in headers.items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Make every error of ``app`` a JSON envelope (domain, werkzeug, unexpected)."""

    @app.errorhandler(VideogenError)
    def _domain(exc: VideogenError) -> Response:
        status = status_for(exc)
        (log.warning if status < 500 else log.error)("%s: %s", exc.code, exc.message)
        return error_response(exc, status)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return _from_werkzeug(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        response = jsonify(error_body("internal_error", "an unexpected error occurred",
                                      {"type": type(exc).__name__}))
        response.status_code = 500
        return response
