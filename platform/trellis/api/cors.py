"""Cross-origin calls to ``/api/v1`` from the browser origins a tenant allows (none until
an administrator lists some in ``/api/v1/tenant/api-settings``).

flask-cors takes its origins from the app's configuration, one list for every request;
here they are the tenant's, known only once the request's token is read, so two hooks do
it instead:

- a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) carries no token, so
  it is answered for an origin that any tenant allows; the real request then must come
  from an origin *its* tenant allows, or the browser keeps the answer from the page;
- every answer says ``Vary: Origin``, and one to an allowed origin names it in
  ``Access-Control-Allow-Origin`` and exposes the headers a client reads.

Credentials mode is never allowed: API calls from another origin carry a bearer token,
not the session cookie (which is ``SameSite=Lax`` and only for Trellis's own pages).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from trellis.identity.api_policy import origin_allowed_anywhere
from trellis.identity.auth import current_actor
from trellis.state import get_state

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-ID"
EXPOSED_HEADERS = "ETag, Location, RateLimit, RateLimit-Policy, Retry-After, X-Request-ID"
# Browsers cap this (Chromium at 2 hours); ten minutes lets a changed list apply soon.
PREFLIGHT_MAX_AGE = "600"


def _allowed_anywhere(origin: str) -> bool:
    with get_state().database.platform() as connection:
        return origin_allowed_anywhere(connection, origin)


def answer_preflight() -> Response | None:
    origin = request.headers.get("Origin")
    if (
        request.method != "OPTIONS"
        or not origin
        or "Access-Control-Request-Method" not in request.headers
        or not request.path.startswith("/api/v1/")
    ):
        return None
    response = Response(status=204)
    if _allowed_anywhere(origin):
        response.headers.update(
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            }
        )
    g.cors_answered = True
    return response


def add_headers(response: Response) -> Response:
    if not request.path.startswith("/api/v1"):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin or g.get("cors_answered"):
        return response
    actor = current_actor()
    allowed = (
        origin in actor.api_policy.cors_origins
        if actor is not None
        # No actor (a missing or bad token): the 401 is readable by an origin some tenant
        # allows, so the page can tell its user why.
        else _allowed_anywhere(origin)
    )
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def register(blueprint: Blueprint) -> None:
    # App-wide, so that a preflight for any /api/v1 path is answered, routed or not.
    blueprint.before_app_request(answer_preflight)
    blueprint.after_app_request(add_headers)
