"""Browser pages: login (with its two-factor code step), logout and the home page."""

from __future__ import annotations

import contextlib
import uuid

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection, Row

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.errors import NotFound, ServiceUnavailable, wants_json
from trellis.identity.mfa import check_second_factor
from trellis.identity.ratelimit import account_key, login_limiter
from trellis.identity.sessions import (
    complete_pending,
    cookie_session_ids,
    end_session,
    lookup_pending,
    start_session,
)
from trellis.identity.tenants import get_tenant
from trellis.identity.users import actor_for, authenticate, find_user
from trellis.state import get_state
from trellis.views.home import home_page

blueprint = Blueprint("ui", __name__)


# The cookie key of a pending two-factor sign-in (its session secret, tenant and the
# limiter's account key, so wrong codes count against the account the password named).
PENDING_KEY = "mfa_pending"
UNAVAILABLE = "Sign-in is unavailable for a moment. Try again shortly."


@blueprint.get("/")
def home() -> ResponseReturnValue:
    return home_page()


def login_unavailable(form: dict[str, str], error: ServiceUnavailable) -> ResponseReturnValue:
    """With Redis down, no login: the limiter is what stops password guessing, and a
    fallback kept in each process would multiply the allowance by the number of
    processes and forget it at every restart, so an attacker would lose nothing from an
    outage. Sessions and tokens already issued live in PostgreSQL and keep working."""
    if wants_json():
        raise ServiceUnavailable(UNAVAILABLE, retry_after=error.retry_after) from error
    page = render_template("login.html", form=form, error=UNAVAILABLE)
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


def audit_user(connection: Connection, actor: Actor, action: str, **details: object) -> None:
    """Record a sign-in event of the user whose password was right (the code step)."""
    record_audit(
        connection,
        actor,
        action,
        target_type="user",
        target_id=actor.user_id,
        details=details,
        address=request.remote_addr,
        user_agent=request.user_agent.string,
    )


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The password step. A user with two-factor sign-in gets a pending sign-in (no
    session) and is sent on to the code step; the failure counter is not reset until
    that step succeeds, so a known password buys no extra code guesses."""
    if request.method == "GET":
        return render_template("login.html", form={}, error=None)
    form = {key: request.form.get(key, "").strip() for key in ("tenant", "email")}
    limiter = login_limiter()
    account = account_key(form["tenant"], form["email"])
    keys = limiter.keys_for(account, request.remote_addr)
    try:
        limiter.check(keys)
    except ServiceUnavailable as error:
        return login_unavailable(form, error)
    signed_in = _password_step(form, request.form.get("password", ""))
    if signed_in is None:
        try:
            limiter.record_failure(keys)
        except ServiceUnavailable as error:  # a failure not counted is a guess for free
            return login_unavailable(form, error)
        return render_template(
            "login.html", form=form, error="Unknown workspace, email or password."
        ), 401
    tenant_id, secret, pending = signed_in
    rotate_session()
    if pending:
        session[PENDING_KEY] = {"sid": secret, "tid": str(tenant_id), "account": account}
        return redirect(url_for("ui.login_code"))
    with contextlib.suppress(ServiceUnavailable):  # the counter expires with its window
        limiter.reset(keys[:1])
    start_browser_session(secret, tenant_id)
    return redirect(url_for("ui.home"))


def _password_step(form: dict[str, str], password: str) -> tuple[uuid.UUID, str, bool] | None:
    """The tenant, the new (or pending) session's secret and whether it is pending, when
    the password is right; None otherwise. A pending sign-in is not yet a login, so only
    the code step records one."""
    state = get_state()
    try:
        with state.database.platform() as connection:
            tenant = get_tenant(connection, slug=form["tenant"])
        with state.database.tenant(tenant.id) as connection:
            user = authenticate(connection, form["email"], password)
            if user is None:
                audit_login(connection, tenant, form["email"], None)
                return None
            pending = user.mfa_enabled_at is not None
            secret = start_session(
                connection,
                user,
                hours=state.config.session_hours,
                client_address=request.remote_addr,
                user_agent=request.user_agent.string,
                pending=pending,
            )
            if not pending:
                audit_login(connection, tenant, form["email"], user)
    except NotFound:
        return None
    return tenant.id, secret, pending


def start_browser_session(secret: str, tenant_id: uuid.UUID) -> None:
    session.clear()
    session.update(sid=secret, tid=str(tenant_id))
    session.permanent = True


def _pending_sign_in() -> dict[str, str] | None:
    """The pending sign-in the (signed) cookie names, if it is well formed."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not all(
        isinstance(pending.get(key), str) for key in ("sid", "tid", "account")
    ):
        return None
    try:
        uuid.UUID(pending["tid"])
    except ValueError:
        return None
    return pending


@blueprint.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    """The second step: a current code from the authenticator app, or a recovery code.
    Wrong codes count as failed logins of the account."""
    pending = _pending_sign_in()
    if pending is None:
        flash("Sign in with your password first.")
        return redirect(url_for("ui.login"))
    if request.method == "GET":
        return render_template("login_code.html", error=None)
    limiter = login_limiter()
    keys = limiter.keys_for(pending["account"], request.remote_addr)
    try:
        limiter.check(keys)
        outcome, secret = _code_step(pending, request.form.get("code", ""))
        if outcome == "failed":
            limiter.record_failure(keys)
    except ServiceUnavailable as error:
        page = render_template("login_code.html", error=UNAVAILABLE)
        return page, 503, {"Retry-After": str(error.retry_after)}
    if outcome == "failed":
        return render_template("login_code.html", error="The code is not correct."), 401
    if secret is None:  # expired, or completed by another request meanwhile
        session.pop(PENDING_KEY, None)
        flash("The sign-in expired. Sign in again.")
        return redirect(url_for("ui.login"))
    with contextlib.suppress(ServiceUnavailable):
        limiter.reset(keys[:1])
    start_browser_session(secret, uuid.UUID(pending["tid"]))
    return redirect(url_for("ui.home"))


def _code_step(pending: dict[str, str], code: str) -> tuple[str, str | None]:
    """``("ok", secret)`` with the new session's secret, ``("failed", None)`` for a wrong
    code, ``("expired", None)`` when the pending sign-in is gone."""
    state = get_state()
    with state.database.tenant(uuid.UUID(pending["tid"])) as connection:
        user = lookup_pending(connection, pending["sid"])
        if user is None:
            return "expired", None
        actor = actor_for(user, user.tenant_slug)
        method = check_second_factor(connection, user, code)
        if method is None:
            audit_user(connection, actor, "login.mfa_failed")
            return "failed", None
        secret = complete_pending(connection, user.pending_id, hours=state.config.session_hours)
        if secret is None:
            return "expired", None
        audit_user(connection, actor, "login.succeeded", second_factor=method)
        if method == "recovery_code":
            left = len(user.mfa_recovery_codes) - 1
            audit_user(connection, actor, "login.recovery_code_used", recovery_codes_left=left)
    return "ok", secret


def rotate_session() -> None:
    """Forget everything the session held before login, ending a browser session it
    carried server-side: no session id or CSRF token from before a login is valid after
    it (no session fixation)."""
    _end_server_sessions()
    session.clear()


def _end_server_sessions() -> None:
    """End the session, and the pending sign-in, the cookie carries."""
    ids = cookie_session_ids(session)
    if ids is not None:
        end_session(get_state().database, ids[1], ids[0])
    pending = _pending_sign_in()
    if pending is not None:
        end_session(get_state().database, uuid.UUID(pending["tid"]), pending["sid"])


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    _end_server_sessions()
    session.clear()
    flash("You have been signed out.")
    return redirect(url_for("ui.login"))
