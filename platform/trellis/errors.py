"""One error hierarchy and one envelope for every API error.

Services raise :class:`TrellisError` subclasses; the handlers here turn them (and
any HTTP error or unexpected exception) into the JSON envelope for the API and an
HTML page for the browser. A stack trace never reaches a client: unexpected
exceptions are logged with the request id and answered with a generic 500.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class TrellisError(Exception):
    """An error a client can act on: HTTP status, machine code, message, field errors."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, list[str] | str] | None = None,
        code: str | None = None,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.extra = dict(extra or {})
        self.fields = {
            name: [errors] if isinstance(errors, str) else list(errors)
            for name, errors in (fields or {}).items()
        }
        if code:
            self.code = code
        if status:
            self.status = status


class BadRequest(TrellisError):
    status, code = 400, "bad_request"


class Unauthorized(TrellisError):
    status, code = 401, "unauthorized"


class Forbidden(TrellisError):
    status, code = 403, "forbidden"


class NotFound(TrellisError):
    status, code = 404, "not_found"


class Conflict(TrellisError):
    status, code = 409, "conflict"


class PreconditionFailed(TrellisError):
    status, code = 412, "precondition_failed"


class UnsupportedMediaType(TrellisError):
    status, code = 415, "unsupported_media_type"


class ValidationError(TrellisError):
    status, code = 422, "validation_error"


class RateLimited(TrellisError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(TrellisError):
    """A service the request needs is down for a moment (Redis, for a login)."""

    status, code = 503, "service_unavailable"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def envelope(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The error body every API endpoint returns (``extra`` adds endpoint-specific detail)."""
    return {
        **(extra or {}),
        "ok": False,
        "status": status,
        "code": code,
        "error": message,
        "errors": dict(fields or {}),
        "request_id": g.get("request_id"),
    }


PROBLEM_JSON = "application/problem+json"
# What a 401 names as the protection space (RFC 6750 section 3).
REALM = "trellis"


def problem_details(body: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope as RFC 9457 problem details: ``type`` (``about:blank``: the status says
    what happened and ``code`` says exactly what), ``title``, ``status``, ``detail`` and
    ``instance``, with every envelope field kept as an extension member."""
    phrases = {status.value: status.phrase for status in http.HTTPStatus}
    return {
        "type": "about:blank",
        "title": phrases.get(int(body["status"]), "Error"),
        "detail": body["error"],
        "instance": request.path,
        **body,
    }


def wants_problem_json() -> bool:
    """Whether the client's ``Accept`` prefers problem details to the plain envelope (a
    bare ``*/*`` or no ``Accept`` gets the envelope, as before)."""
    best = request.accept_mimetypes.best_match(["application/json", PROBLEM_JSON])
    return best == PROBLEM_JSON


def wants_json() -> bool:
    """API paths always get JSON; other paths get JSON only when they ask for it."""
    if request.path.startswith("/api/") or request.path in {"/healthz", "/readyz"}:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    if wants_json():
        body, problem = envelope(status, code, message, fields, extra), wants_problem_json()
        response = jsonify(problem_details(body) if problem else body)
        response.vary.add("Accept")
        if problem:
            response.mimetype = PROBLEM_JSON
        if status == 401:
            response.headers["WWW-Authenticate"] = bearer_challenge()
    else:
        response = Response(
            render_template(
                "error.html",
                status=status,
                code=code,
                message=message,
                fields=fields or {},
                # The id the X-Request-ID header and the log lines carry, so a user can
                # quote it and an operator find the request.
                request_id=g.get("request_id"),
                # A failure of our own shows the bare top bar: the shell's queries
                # could fail the same way.
                plain_shell=status >= 500,
            ),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def bearer_challenge() -> str:
    """RFC 6750's challenge: the realm, and ``invalid_token`` when a bearer token was sent
    but is unknown, expired or revoked (no token at all gets no error code)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return f'Bearer realm="{REALM}", error="invalid_token"'
    return f'Bearer realm="{REALM}"'


def init_app(app: Flask) -> None:
    @app.errorhandler(TrellisError)
    def handle_trellis_error(error: TrellisError) -> Response:
        response = error_response(
            error.status, error.code, error.message, error.fields, error.extra
        )
        if isinstance(error, RateLimited | ServiceUnavailable):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        response = error_response(error.code or 500, code, error.description or error.name)
        if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(sa.exc.IntegrityError)
    def handle_integrity_error(error: sa.exc.IntegrityError) -> Response:
        # Services check first; this is the database's last word on a race they lost.
        log.info("integrity error", extra={"detail": str(error.orig).splitlines()[0]})
        return error_response(
            409, "conflict", "The change conflicts with existing data; reload and retry."
        )

    @app.errorhandler(sa.exc.DataError)
    def handle_data_error(error: sa.exc.DataError) -> Response:
        # PostgreSQL refused to compute something for the data at hand (a formula
        # dividing by zero, a numeric overflow): the client's data, not our crash.
        diagnostics = getattr(error.orig, "diag", None)
        detail = getattr(diagnostics, "message_primary", None) or "invalid data"
        log.info("data error", extra={"detail": detail})
        return error_response(422, "data_error", f"The data could not be processed: {detail}.")

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.path})
        return error_response(
            500,
            "internal_error",
            "An unexpected error on our side stopped this request; the request id identifies it.",
        )
