"""``/api/v1/tenant/security``: the workspace's sign-in requirements (administrators)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.access.audit import record_audit
from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.errors import ValidationError
from trellis.identity.tenants import require_mfa_setting, set_require_mfa

EDITABLE = frozenset({"require_mfa"})


def show() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_admin()
        return jsonify({"require_mfa": require_mfa_setting(connection, actor.tenant_id)})


def update() -> ResponseReturnValue:
    """Require two-factor sign-in of every user (or stop requiring it)."""
    body = json_body()
    unknown = sorted(set(body) - EDITABLE)
    if unknown or "require_mfa" not in body:
        raise ValidationError(
            'Send {"require_mfa": true} or false.',
            fields=dict.fromkeys(unknown, "Not a security setting.")
            or {"require_mfa": "Required: true or false."},
        )
    with tenant_transaction() as (connection, actor):
        previous = set_require_mfa(connection, actor, body["require_mfa"])
        if previous != body["require_mfa"]:
            record_audit(
                connection,
                actor,
                "tenant.mfa_required_changed",
                target_type="tenant",
                target_id=actor.tenant_id,
                details={"require_mfa": body["require_mfa"], "via": "api"},
                address=request.remote_addr,
                user_agent=request.user_agent.string,
            )
    return jsonify({"require_mfa": body["require_mfa"]})


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule(
        "/tenant/security", view_func=show, methods=["GET"], endpoint="tenant_security"
    )
    blueprint.add_url_rule(
        "/tenant/security", view_func=update, methods=["PUT"], endpoint="update_tenant_security"
    )
