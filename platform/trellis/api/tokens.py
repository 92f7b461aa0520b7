"""``/api/v1/tokens``: a user's API tokens (administrators see everyone's)."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Row

from trellis.access.api_tokens import (
    Origin,
    change_token_rate_limit,
    check_request,
    issue_token,
    withdraw_token,
)
from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.errors import Forbidden, NotFound
from trellis.identity.auth import require_actor
from trellis.identity.tokens import list_tokens


def token_json(row: Row) -> dict:
    return {
        "id": str(row.id),
        "name": row.name,
        "prefix": row.prefix,
        "user_id": str(row.user_id),
        "scopes": list(row.scopes),
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "rate_limit": row.rate_limit,
    }


def index() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        return jsonify({"data": [token_json(row) for row in list_tokens(connection, actor)]})


def _origin() -> Origin:
    return Origin(request.remote_addr, request.user_agent.string)


def create() -> ResponseReturnValue:
    actor = require_actor()
    if actor.user_id is None:  # the platform's own actor: no request authenticates as it
        raise Forbidden("API tokens belong to users.")
    body = json_body()
    check_request(actor, body)  # refused before a transaction is opened
    with tenant_transaction() as (connection, actor):
        token, row = issue_token(connection, actor, body, origin=_origin())
    return jsonify({**token_json(row), "token": token}), 201


def _token_id(token_id: str) -> uuid.UUID:
    require_actor()  # authenticated before the id is parsed: a stranger learns nothing
    try:
        return uuid.UUID(token_id)
    except ValueError:
        raise NotFound("No such active token.") from None


def update(token_id: str) -> ResponseReturnValue:
    """Change a token's own rate limit (the only thing about a token that changes)."""
    parsed = _token_id(token_id)
    body = json_body()
    with tenant_transaction() as (connection, actor):
        row = change_token_rate_limit(connection, actor, parsed, body, origin=_origin())
    return jsonify(token_json(row))


def revoke(token_id: str) -> ResponseReturnValue:
    parsed = _token_id(token_id)
    with tenant_transaction() as (connection, actor):
        withdraw_token(connection, actor, parsed, origin=_origin())
    return "", 204


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/tokens", view_func=index, methods=["GET"])
    blueprint.add_url_rule("/tokens", view_func=create, methods=["POST"], endpoint="create_token")
    blueprint.add_url_rule("/tokens/<token_id>", view_func=revoke, methods=["DELETE"])
    blueprint.add_url_rule(
        "/tokens/<token_id>", view_func=update, methods=["PATCH"], endpoint="update_token"
    )
