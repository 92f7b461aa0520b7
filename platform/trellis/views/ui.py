"""Browser pages: login, logout and the home page."""

from __future__ import annotations

import contextlib

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection, Row

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.errors import NotFound, ServiceUnavailable, wants_json
from trellis.identity.auth import current_actor
from trellis.identity.ratelimit import LoginLimiter
from trellis.identity.sessions import cookie_session_ids, end_session, start_session
from trellis.identity.tenants import get_tenant
from trellis.identity.users import actor_for, authenticate, find_user
from trellis.state import get_state

blueprint = Blueprint("ui", __name__)


def login_limiter() -> LoginLimiter:
    state = get_state()
    return LoginLimiter(
        state.redis,
        breaker=state.redis_breaker,
        attempts=state.config.login_attempts,
        window_seconds=state.config.login_window_seconds,
        prefix=f"{state.config.redis_namespace}:login",
    )


@blueprint.get("/")
def home() -> ResponseReturnValue:
    actor = current_actor()
    if actor is None:
        return redirect(url_for("ui.login"))
    return render_template("home.html", actor=actor)


def login_unavailable(form: dict[str, str], error: ServiceUnavailable) -> ResponseReturnValue:
    """With Redis down, no login: the limiter is what stops password guessing, and a
    fallback kept in each process would multiply the allowance by the number of
    processes and forget it at every restart, so an attacker would lose nothing from an
    outage. Sessions and tokens already issued live in PostgreSQL and keep working."""
    message = "Sign-in is unavailable for a moment. Try again shortly."
    if wants_json():
        raise ServiceUnavailable(message, retry_after=error.retry_after) from error
    page = render_template("login.html", form=form, error=message)
    return page, 503, {"Retry-After": str(error.retry_after)}


def audit_login(connection: Connection, tenant: Row, email: str, user: Row | None) -> None:
    """Record a sign-in attempt in a known tenant. A failed one has no actor (nobody was
    authenticated): the email typed is kept, and the account it names, if any, is the
    target."""
    target: Row | None = user
    if user is not None:
        actor = actor_for(user, tenant.slug)
    else:
        actor = Actor(tenant_id=tenant.id, tenant_slug=tenant.slug, user_id=None, email=email)
        target = find_user(connection, email) if email else None
    record_audit(
        connection,
        actor,
        "login.succeeded" if user is not None else "login.failed",
        target_type="user" if target is not None else None,
        target_id=target.id if target is not None else None,
        address=request.remote_addr,
        user_agent=request.user_agent.string,
    )


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("login.html", form={}, error=None)
    form = {key: request.form.get(key, "").strip() for key in ("tenant", "email")}
    password = request.form.get("password", "")
    limiter = login_limiter()
    keys = limiter.keys_for(f"{form['tenant']}:{form['email'].lower()}", request.remote_addr)
    try:
        limiter.check(keys)
    except ServiceUnavailable as error:
        return login_unavailable(form, error)
    state = get_state()
    user = None
    try:
        with state.database.platform() as connection:
            tenant = get_tenant(connection, slug=form["tenant"])
        with state.database.tenant(tenant.id) as connection:
            user = authenticate(connection, form["email"], password)
            if user is not None:
                secret = start_session(
                    connection,
                    user,
                    hours=state.config.session_hours,
                    client_address=request.remote_addr,
                    user_agent=request.user_agent.string,
                )
            audit_login(connection, tenant, form["email"], user)
    except NotFound:
        user = None
    if user is None:
        try:
            limiter.record_failure(keys)
        except ServiceUnavailable as error:  # a failure not counted is a guess for free
            return login_unavailable(form, error)
        return render_template(
            "login.html", form=form, error="Unknown workspace, email or password."
        ), 401
    with contextlib.suppress(ServiceUnavailable):  # the counter expires with its window
        limiter.reset(keys[:1])
    _rotate_session()
    session.update(sid=secret, tid=str(tenant.id))
    session.permanent = True
    return redirect(url_for("ui.home"))


def _rotate_session() -> None:
    """Forget everything the session held before login, ending a browser session it
    carried server-side: no session id or CSRF token from before a login is valid after
    it (no session fixation)."""
    ids = cookie_session_ids(session)
    if ids is not None:
        end_session(get_state().database, ids[1], ids[0])
    session.clear()


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    ids = cookie_session_ids(session)
    if ids is not None:
        end_session(get_state().database, ids[1], ids[0])
    session.clear()
    flash("You have been signed out.")
    return redirect(url_for("ui.login"))
