"""``/api/v1/me/mfa``: the signed-in user's two-factor sign-in, from a browser session.

Enrol (``POST``), confirm with a first code (``POST /confirm``: the recovery codes come
back, once), replace the recovery codes (``POST /recovery-codes``) or switch it off
(``DELETE``), each proven with a code. Wrong codes count as failed logins. API tokens
cannot manage it (:func:`trellis.identity.mfa._own_user`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.errors import ValidationError
from trellis.identity.auth import require_actor
from trellis.identity.mfa import (
    actor_attempt,
    confirm_enrolment,
    disable,
    mfa_status,
    regenerate_recovery_codes,
    start_enrolment,
)


def _audit(connection: Connection, actor: Actor, action: str, **details: Any) -> None:
    record_audit(
        connection,
        actor,
        action,
        target_type="user",
        target_id=actor.user_id,
        details={**details, "via": "api"},
        address=request.remote_addr,
        user_agent=request.user_agent.string,
    )


def _code() -> str:
    code = json_body().get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        raise ValidationError(
            "A code is required.",
            fields={"code": "The current 6-digit code from your app, or a recovery code."},
        )
    return code


def status() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        return jsonify(mfa_status(connection, actor))


def start() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        secret, uri = start_enrolment(connection, actor)
    return jsonify({"secret": secret, "provisioning_uri": uri}), 201


def confirm() -> ResponseReturnValue:
    code = _code()
    with actor_attempt(require_actor(), request.remote_addr):
        with tenant_transaction() as (connection, actor):
            codes = confirm_enrolment(connection, actor, code)
            _audit(connection, actor, "mfa.enabled")
    return jsonify({"enabled": True, "recovery_codes": codes})


def new_recovery_codes() -> ResponseReturnValue:
    code = _code()
    with actor_attempt(require_actor(), request.remote_addr):
        with tenant_transaction() as (connection, actor):
            codes = regenerate_recovery_codes(connection, actor, code)
            _audit(connection, actor, "mfa.recovery_codes_regenerated")
    return jsonify({"recovery_codes": codes})


def switch_off() -> ResponseReturnValue:
    code = _code()
    with actor_attempt(require_actor(), request.remote_addr):
        with tenant_transaction() as (connection, actor):
            method = disable(connection, actor, code)
            _audit(connection, actor, "mfa.disabled", proven_with=method)
    return "", 204


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/me/mfa", view_func=status, methods=["GET"], endpoint="mfa_status")
    blueprint.add_url_rule("/me/mfa", view_func=start, methods=["POST"], endpoint="mfa_start")
    blueprint.add_url_rule(
        "/me/mfa", view_func=switch_off, methods=["DELETE"], endpoint="mfa_disable"
    )
    blueprint.add_url_rule(
        "/me/mfa/confirm", view_func=confirm, methods=["POST"], endpoint="mfa_confirm"
    )
    blueprint.add_url_rule(
        "/me/mfa/recovery-codes",
        view_func=new_recovery_codes,
        methods=["POST"],
        endpoint="mfa_recovery_codes",
    )
