"""``/invite/<link>``: where a one-time link from an administrator (an invitation or a
password reset, trellis.identity.links) lands. Its user chooses a password under the
password policy and is signed in, as the login form would sign them in: a user with
two-factor sign-in still gives a code before the session starts.

A link that is unknown, used, void or expired gets the same page, and nothing about the
account it was for."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.errors import NotFound, ValidationError
from trellis.identity.links import OpenLink, link_tenant, open_link, redeem_link
from trellis.identity.passwords import min_length
from trellis.identity.ratelimit import account_key
from trellis.identity.sessions import start_session
from trellis.identity.users import actor_for
from trellis.state import get_state
from trellis.views.ui import PENDING_KEY, rotate_session, start_browser_session

blueprint = Blueprint("invite", __name__)

GONE = "This link has expired or was already used. Ask your administrator for a new one."


def _page(
    link: OpenLink | None, error: str | None = None, errors: dict[str, str] | None = None
) -> str:
    return render_template(
        "invite.html", link=link, error=error, errors=errors or {}, min_length=min_length()
    )


def _gone() -> ResponseReturnValue:
    return _page(None, GONE), 404


@blueprint.get("/invite/<token>")
def open_link_page(token: str) -> ResponseReturnValue:
    tenant_id = link_tenant(token)
    if tenant_id is None:
        return _gone()
    try:
        with get_state().database.tenant(tenant_id) as connection:
            link = open_link(connection, token)
    except NotFound:
        return _gone()
    return _page(link)


@blueprint.post("/invite/<token>")
def redeem(token: str) -> ResponseReturnValue:
    tenant_id = link_tenant(token)
    if tenant_id is None:
        return _gone()
    password = request.form.get("password", "")
    state = get_state()
    try:
        with state.database.tenant(tenant_id) as connection:
            if password != request.form.get("confirm", ""):
                link = open_link(connection, token)
                return _mismatch(link)
            link = redeem_link(connection, token, password)
            pending = link.user.mfa_enabled_at is not None
            secret = start_session(
                connection,
                link.user,
                hours=state.config.session_hours,
                client_address=request.remote_addr,
                user_agent=request.user_agent.string,
                pending=pending,
            )
            _audit(connection, link, pending)
    except NotFound:
        return _gone()
    except ValidationError as error:
        with state.database.tenant(tenant_id) as connection:
            link = open_link(connection, token)
        errors = {name: messages[0] for name, messages in error.fields.items()}
        return _page(link, error.message, errors), 422
    rotate_session()
    if pending:
        account = account_key(link.tenant_slug, link.user.email)
        session[PENDING_KEY] = {"sid": secret, "tid": str(tenant_id), "account": account}
        return redirect(url_for("ui.login_code"))
    start_browser_session(secret, tenant_id)
    return redirect(url_for("ui.home"))


def _mismatch(link: OpenLink) -> ResponseReturnValue:
    errors = {"confirm": "The two passwords differ."}
    return _page(link, "The password could not be set.", errors), 422


def _audit(connection: Connection, link: OpenLink, pending: bool) -> None:
    """The link's use, by its user; a sign-in too unless a code is still to come (the
    code step records that one)."""
    actor = actor_for(link.user, link.tenant_slug)
    for action in ("user.link_used", "login.succeeded")[: 1 if pending else 2]:
        record_audit(
            connection,
            actor,
            action,
            target_type="user",
            target_id=link.user.id,
            details={"purpose": link.purpose, "via": "link"},
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
