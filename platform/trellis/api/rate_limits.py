"""Every ``/api/v1`` request spends one unit of a per-minute budget: the API token's, the
signed-in user's, or (with neither) the client address's.

The budget is the token's own limit, else its tenant's (``/api/v1/tenant/api-settings``),
else ``TRELLIS_API_RATE_LIMIT``. Each answer says where it stands in the header fields of
draft-ietf-httpapi-ratelimit-headers (structured fields, RFC 9651)::

    RateLimit-Policy: "default";q=1000;w=60
    RateLimit: "default";r=998;t=1

and a request past it gets a 429 in the error envelope with ``Retry-After``. With Redis
down, or refusing the count, the request goes on uncounted (fail open: an outage must
not take the API with it), with a log line and ``trellis_rate_limit_unchecked_total`` in
the metrics.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, current_app, g, request
from flask.blueprints import BlueprintSetupState
from prometheus_client import Counter

from trellis.errors import RateLimited, ServiceUnavailable
from trellis.identity.auth import current_actor
from trellis.identity.ratelimit import Decision, request_limiter
from trellis.state import get_state

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
UNCHECKED = "trellis_rate_limit_unchecked"


def _budget() -> tuple[str, str, int]:
    """The budget this request spends: its policy name, Redis key and size."""
    actor = current_actor()
    default = get_state().config.api_rate_limit
    if actor is None:
        return "default", f"address:{request.remote_addr}", default
    policy = actor.api_policy
    limit = policy.requests_per_minute or default
    if actor.token_id is not None:
        return ("token" if policy.token_override else "default"), f"token:{actor.token_id}", limit
    return "default", f"user:{actor.user_id}", limit


def spend_request() -> None:
    """Count this request; refuse it with a 429 once its budget is spent."""
    # Every API path, routed or not; a CORS preflight is the browser's, not the caller's.
    if not request.path.startswith("/api/v1") or request.method == "OPTIONS":
        return
    name, key, limit = _budget()
    g.rate_limit_policy = f'"{name}";q={limit};w={WINDOW_SECONDS}'
    try:
        decision = request_limiter().spend(key, limit)
    except ServiceUnavailable as outage:
        if outage.__cause__ is not None:  # this request found Redis down, not the breaker
            log.warning("Redis unavailable: API requests go uncounted by their rate limits")
        current_app.extensions[UNCHECKED].inc()
        return
    except redis.RedisError:
        # Redis answered with an error (read-only replica, out of memory): the request
        # goes on uncounted too, rather than fail for want of its count.
        log.exception("Redis refused the rate limit's script: API request not counted")
        current_app.extensions[UNCHECKED].inc()
        return
    g.rate_limit = _field(name, decision)
    if not decision.allowed:
        raise RateLimited(
            f"Too many requests: {limit} a minute are allowed. "
            f"Retry in {decision.reset_seconds} s.",
            retry_after=decision.reset_seconds,
        )


def _field(name: str, decision: Decision) -> str:
    return f'"{name}";r={decision.remaining};t={decision.reset_seconds}'


def add_headers(response: Response) -> Response:
    if "rate_limit_policy" in g:
        response.headers["RateLimit-Policy"] = g.rate_limit_policy
        if "rate_limit" in g:  # not when Redis could not count the request
            response.headers["RateLimit"] = g.rate_limit
    return response


def _metrics(state: BlueprintSetupState) -> None:
    state.app.extensions[UNCHECKED] = Counter(
        UNCHECKED,
        "API requests let through uncounted because Redis was unavailable.",
        registry=state.app.extensions["trellis_metrics"],
    )


def register(blueprint: Blueprint) -> None:
    blueprint.record_once(_metrics)
    # App-wide, so that an unknown /api/v1 path is counted and answered alike.
    blueprint.before_app_request(spend_request)
    blueprint.after_app_request(add_headers)
