"""The browser's account security page: set up, use and switch off two-factor sign-in.

Plain forms over the same services as ``/api/v1/me/mfa`` (trellis.identity.mfa), with
the same audit events. Recovery codes appear once, in the response that made them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis import request_transaction
from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.errors import Conflict
from trellis.identity.auth import current_actor
from trellis.identity.mfa import (
    WrongCode,
    actor_attempt,
    confirm_enrolment,
    disable,
    mfa_status,
    pending_enrolment,
    regenerate_recovery_codes,
    start_enrolment,
)
from trellis.state import get_state

blueprint = Blueprint("account", __name__, url_prefix="/account")


def _render(actor: Actor, status: int = 200, **shown: Any) -> ResponseReturnValue:
    with request_transaction.tenant(get_state().database, actor.tenant_id) as connection:
        mfa = mfa_status(connection, actor)
        enrolment = pending_enrolment(connection, actor)
    page = render_template(
        "account_security.html", actor=actor, mfa=mfa, enrolment=enrolment, **shown
    )
    return page, status


def _audit(connection: Any, actor: Actor, action: str, **details: Any) -> None:
    record_audit(
        connection,
        actor,
        action,
        target_type="user",
        target_id=actor.user_id,
        details={**details, "via": "browser"},
        address=request.remote_addr,
        user_agent=request.user_agent.string,
    )


@blueprint.get("/security")
def security() -> ResponseReturnValue:
    actor = current_actor()
    if actor is None:
        return redirect(url_for("ui.login"))
    return _render(actor)


@blueprint.post("/security/enrol")
def security_enrol() -> ResponseReturnValue:
    actor = current_actor()
    if actor is None:
        return redirect(url_for("ui.login"))
    try:
        with request_transaction.tenant(get_state().database, actor.tenant_id) as connection:
            start_enrolment(connection, actor)
    except Conflict as error:
        return _render(actor, 409, error=error.message)
    return redirect(url_for("account.security"))


def _with_code(action: str) -> ResponseReturnValue:
    """Run one of the code-proven actions on the submitted code, counted like a login."""
    actor = current_actor()
    if actor is None:
        return redirect(url_for("ui.login"))
    code = request.form.get("code", "")
    database = get_state().database
    try:
        with actor_attempt(actor, request.remote_addr):
            with request_transaction.tenant(database, actor.tenant_id) as connection:
                if action == "confirm":
                    codes = confirm_enrolment(connection, actor, code)
                    _audit(connection, actor, "mfa.enabled")
                elif action == "recovery_codes":
                    codes = regenerate_recovery_codes(connection, actor, code)
                    _audit(connection, actor, "mfa.recovery_codes_regenerated")
                else:
                    method = disable(connection, actor, code)
                    _audit(connection, actor, "mfa.disabled", proven_with=method)
                    codes = []
    except WrongCode as error:
        return _render(actor, 422, error=error.message)
    except Conflict as error:
        return _render(actor, 409, error=error.message)
    if action == "disable":
        flash("Two-factor sign-in is off.")
        return redirect(url_for("account.security"))
    return _render(actor, recovery_codes=codes)


@blueprint.post("/security/confirm")
def security_confirm() -> ResponseReturnValue:
    return _with_code("confirm")


@blueprint.post("/security/recovery-codes")
def security_recovery_codes() -> ResponseReturnValue:
    return _with_code("recovery_codes")


@blueprint.post("/security/disable")
def security_disable() -> ResponseReturnValue:
    return _with_code("disable")
