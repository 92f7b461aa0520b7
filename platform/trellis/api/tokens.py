"""``/api/v1/tokens``: a user's API tokens (administrators see everyone's)."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Row

from trellis.access.audit import record_audit
from trellis.actor import TOKEN_SCOPES
from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.errors import Forbidden, NotFound, ValidationError
from trellis.identity.auth import require_actor
from trellis.identity.tokens import create_token, list_tokens, revoke_token


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
    }


def index() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        return jsonify({"data": [token_json(row) for row in list_tokens(connection, actor)]})


def create() -> ResponseReturnValue:
    actor = require_actor()
    user_id = actor.user_id
    if user_id is None:  # the platform's own actor: no request authenticates as it
        raise Forbidden("API tokens belong to users.")
    body = json_body()
    expires_at = None
    if body.get("expires_in_days") is not None:
        days = body["expires_in_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
            raise ValidationError(
                "Invalid expiry.", fields={"expires_in_days": "A whole number of days, 1–3650."}
            )
        expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    scopes = body.get("scopes", list(TOKEN_SCOPES))
    name = body.get("name")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValidationError("Invalid scopes.", fields={"scopes": "A list of scope names."})
    if not isinstance(name, str):
        raise ValidationError("A token needs a name.", fields={"name": "Required text."})
    # A token can never carry more than the token that creates it.
    if actor.scopes is not None and not set(scopes) <= set(actor.scopes):
        raise ValidationError(
            "A token cannot grant scopes its creator lacks.",
            fields={"scopes": f"At most {', '.join(actor.scopes)}."},
        )
    with tenant_transaction() as (connection, actor):
        token, row = create_token(
            connection,
            actor,
            user_id=user_id,
            name=name,
            scopes=scopes,
            expires_at=expires_at,
        )
        record_audit(
            connection,
            actor,
            "token.created",
            target_type="api_token",
            target_id=row.id,
            details={"name": row.name, "user_id": str(row.user_id), "scopes": list(row.scopes)},
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    return jsonify({**token_json(row), "token": token}), 201


def revoke(token_id: str) -> ResponseReturnValue:
    require_actor()  # authenticated before the id is parsed: a stranger learns nothing
    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        raise NotFound("No such active token.") from None
    with tenant_transaction() as (connection, actor):
        revoke_token(connection, actor, parsed)
        record_audit(
            connection,
            actor,
            "token.revoked",
            target_type="api_token",
            target_id=parsed,
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    return "", 204


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/tokens", view_func=index, methods=["GET"])
    blueprint.add_url_rule("/tokens", view_func=create, methods=["POST"], endpoint="create_token")
    blueprint.add_url_rule("/tokens/<token_id>", view_func=revoke, methods=["DELETE"])
