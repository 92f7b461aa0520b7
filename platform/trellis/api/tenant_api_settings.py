"""``/api/v1/tenant/api-settings``: the workspace's API request budget and the browser
origins allowed to call the API (administrators)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.access.api_settings import change_api_settings
from trellis.access.api_tokens import Origin
from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.errors import ValidationError
from trellis.identity.api_policy import api_settings
from trellis.state import get_state

EDITABLE = frozenset({"rate_limit", "cors_origins"})


def _shown(settings: dict) -> dict:
    # The budget in force, so a null setting still tells the administrator its number.
    default = get_state().config.api_rate_limit
    return {**settings, "default_rate_limit": default, "rate_limit_window_seconds": 60}


def show() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_admin()
        return jsonify(_shown(api_settings(connection, actor.tenant_id)))


def update() -> ResponseReturnValue:
    """Change the request budget (null: the deployment's default) and/or the origins."""
    body = json_body()
    unknown = sorted(set(body) - EDITABLE)
    if unknown or not body:
        raise ValidationError(
            "Send rate_limit and/or cors_origins.",
            fields=dict.fromkeys(unknown, "Not an API setting.")
            or {"rate_limit": "Requests a minute, or null.", "cors_origins": "A list of origins."},
        )
    with tenant_transaction() as (connection, actor):
        origin = Origin(request.remote_addr, request.user_agent.string)
        current = change_api_settings(connection, actor, body, origin=origin)
    return jsonify(_shown(current))


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule(
        "/tenant/api-settings", view_func=show, methods=["GET"], endpoint="tenant_api_settings"
    )
    blueprint.add_url_rule(
        "/tenant/api-settings",
        view_func=update,
        methods=["PATCH"],
        endpoint="update_tenant_api_settings",
    )
