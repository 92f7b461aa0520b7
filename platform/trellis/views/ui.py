"""Browser pages: login, logout and the home page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import NotFound
from trellis.identity.auth import current_actor
from trellis.identity.ratelimit import LoginLimiter
from trellis.identity.sessions import cookie_session_ids, end_session, start_session
from trellis.identity.tenants import get_tenant
from trellis.identity.users import authenticate
from trellis.state import get_state

blueprint = Blueprint("ui", __name__)


def login_limiter() -> LoginLimiter:
    state = get_state()
    return LoginLimiter(
        state.redis,
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


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("login.html", form={}, error=None)
    form = {key: request.form.get(key, "").strip() for key in ("tenant", "email")}
    password = request.form.get("password", "")
    limiter = login_limiter()
    keys = limiter.keys_for(f"{form['tenant']}:{form['email'].lower()}", request.remote_addr)
    limiter.check(keys)
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
    except NotFound:
        user = None
    if user is None:
        limiter.record_failure(keys)
        return render_template(
            "login.html", form=form, error="Unknown workspace, email or password."
        ), 401
    limiter.reset(keys[:1])
    session.clear()  # a fresh session (and CSRF token) after login: no session fixation
    session.update(sid=secret, tid=str(tenant.id))
    session.permanent = True
    return redirect(url_for("ui.home"))


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    ids = cookie_session_ids(session)
    if ids is not None:
        end_session(get_state().database, ids[1], ids[0])
    session.clear()
    flash("You have been signed out.")
    return redirect(url_for("ui.login"))
