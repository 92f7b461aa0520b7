"""Request authentication: bearer tokens for the API, session cookies for the browser.

The actor is resolved once per request into ``g.actor``. Cookie-authenticated
state-changing requests must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); bearer requests carry no ambient
credentials, so they need none.

Where the tenant requires two-factor sign-in, a session of a user who has not enrolled
reaches only :data:`ENROLMENT_ENDPOINTS`; every other request is refused with
``mfa_enrolment_required`` (a browser page redirects to the enrolment page instead).
"""

from __future__ import annotations

import secrets

from flask import Flask, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis import request_transaction
from trellis.actor import Actor
from trellis.errors import Forbidden, Unauthorized, wants_json
from trellis.identity.sessions import CookieSessions, cookie_session_ids, lookup_session
from trellis.identity.tokens import lookup_token, token_tenant
from trellis.identity.users import with_system_rights
from trellis.state import get_state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a session that must enrol in two-factor sign-in may still reach.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "api.mfa_status",
        "api.mfa_start",
        "api.mfa_confirm",
        "ui.login",
        "ui.login_code",
        "ui.logout",
        "account.security",
        "account.security_enrol",
        "account.security_confirm",
    }
)


def current_actor() -> Actor | None:
    return g.get("actor")


def require_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized(g.get("auth_error") or "Authentication required.")
    return actor


def csrf_token() -> str:
    """The CSRF token of this browser session, created on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not secrets.compare_digest(sent, expected):
        raise Forbidden(
            "The form expired or did not come from this site; reload and retry.", code="csrf_failed"
        )


def _load_actor() -> None:
    g.actor = None
    g.auth_method = None
    header = request.headers.get("Authorization")
    database = get_state().database
    if header is not None:
        scheme, _, credentials = header.partition(" ")
        token = credentials.strip()
        tenant_id = token_tenant(token) if scheme.lower() == "bearer" else None
        g.auth_method = "token" if scheme.lower() == "bearer" and token else None
        if tenant_id is not None:
            connection = request_transaction.begin(database, tenant_id)
            g.actor = with_rights(connection, lookup_token(connection, token))
        if g.actor is None:
            request_transaction.release(commit=False)
            g.auth_error = (
                "The token is invalid, expired or revoked."
                if g.auth_method
                else "Use 'Authorization: Bearer <token>'."
            )
        return
    ids = cookie_session_ids(session)
    if ids is not None:
        g.auth_method = "session"
        connection = request_transaction.begin(database, ids[1])
        g.actor = with_rights(connection, lookup_session(connection, ids[0]))
        if g.actor is None:
            request_transaction.release(commit=False)
    if g.actor is None and ("sid" in session or "tid" in session):
        # Dead or malformed: forget it, so the browser stops sending it.
        session.pop("sid", None)
        session.pop("tid", None)


def with_rights(connection: Connection, actor: Actor | None) -> Actor | None:
    """The actor with the system rights their permission sets grant (read from the
    tenant's metadata, which the request has cached)."""
    if actor is None or not actor.permission_sets:
        return actor
    return with_system_rights(
        actor, get_state().metadata_cache.get(connection, actor.tenant_id).access
    )


def require_api_right() -> None:
    """An API token acts for its user only while their permission sets grant the API."""
    actor = g.get("actor")
    if g.get("auth_method") == "token" and actor is not None and not actor.has_right("api"):
        raise Forbidden("Your permission sets do not include API access.", code="no_system_right")


def enforce_enrolment() -> ResponseReturnValue | None:
    """Keep a session that must enrol in two-factor sign-in to the enrolment endpoints."""
    actor = g.get("actor")
    if actor is None or not actor.mfa_enrolment_required:
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if request.method in SAFE_METHODS and not wants_json():
        return redirect(url_for("account.security"))
    raise Forbidden(
        "This workspace requires two-factor sign-in: set it up before anything else.",
        code="mfa_enrolment_required",
    )


def init_app(app: Flask) -> None:
    request_transaction.init_app(app)
    app.session_interface = CookieSessions()
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_actor"] = current_actor

    @app.before_request
    def authenticate() -> ResponseReturnValue | None:
        if request.endpoint in {"static", "health.healthz", "health.readyz", "health.metrics"}:
            return None
        _load_actor()
        require_api_right()
        if request.method not in SAFE_METHODS:
            if g.auth_method == "token":
                require_actor().require_scope("write")
            elif g.auth_method == "session" or not request.path.startswith("/api/"):
                # Browser forms (login included, against login CSRF) and cookie-authenticated
                # API calls need the token; an API call with no credentials at all gets its
                # 401 from the view instead.
                check_csrf()
        return enforce_enrolment()
