"""``/api/v1/webhooks``: subscriptions to record events, their delivery log and replay.

Subscriptions hold a signing secret and name where record data goes, so every endpoint
here is for administrators (with the ``admin`` scope), reads included. The secret is
write-only: set on create, rotated with PATCH, never shown again. The work is done by
:mod:`trellis.webhooks.manage`, which the Setup screens share.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.api.context import nudge_worker, tenant_transaction
from trellis.api.request import json_body
from trellis.errors import BadRequest, NotFound
from trellis.metadata.compiled import TenantSchema
from trellis.records.parameters import whole_number
from trellis.state import get_state
from trellis.webhooks import manage
from trellis.webhooks.subscriptions import subscription_json, webhook_deliveries

STATUSES = ("queued", "sending", "succeeded", "failed", "dead", "skipped")
MAX_LIMIT = 200
MAX_ID = manage.MAX_ID


def _schema(connection: Connection, actor: Actor) -> TenantSchema:
    return get_state().metadata_cache.get(connection, actor.tenant_id)


def _origin() -> manage.Origin:
    return manage.Origin(request.remote_addr, request.user_agent.string)


def delivery_json(row: Any) -> dict[str, Any]:
    def moment(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "subscription_id": str(row.subscription_id),
        "event_id": row.event_id,
        "event": row.event_type,
        "object": row.object,
        "record_id": str(row.record_id),
        "status": row.status,
        "attempts": row.attempts,
        "response_status": row.response_status,
        "response_excerpt": row.response_excerpt,
        "error": row.error,
        "duration_ms": row.duration_ms,
        "created_at": row.created_at.isoformat(),
        "last_attempt_at": moment(row.last_attempt_at),
        "next_attempt_at": moment(row.next_attempt_at),
    }


def list_webhooks() -> ResponseReturnValue:
    """Webhook subscriptions."""
    with tenant_transaction() as (connection, actor):
        rows = manage.subscriptions(connection, actor)
        schema = _schema(connection, actor)
    return jsonify({"data": [subscription_json(row, schema) for row in rows]})


def create_webhook() -> ResponseReturnValue:
    """Subscribe a URL to record events."""
    body = json_body()
    with tenant_transaction() as (connection, actor):
        actor.require_right(manage.RIGHT)
        schema = _schema(connection, actor)
        row = manage.create_subscription(
            connection,
            actor,
            schema,
            body,
            allow_private=get_state().config.webhook_allow_private,
            origin=_origin(),
        )
    return jsonify(subscription_json(row, schema)), 201


def get_webhook(webhook_id: uuid.UUID) -> ResponseReturnValue:
    """A webhook subscription."""
    with tenant_transaction() as (connection, actor):
        row = manage.subscription(connection, actor, webhook_id)
        return jsonify(subscription_json(row, _schema(connection, actor)))


def change_webhook(webhook_id: uuid.UUID) -> ResponseReturnValue:
    """Change a subscription; ``active: true`` turns a disabled one on again."""
    body = json_body()
    with tenant_transaction() as (connection, actor):
        actor.require_right(manage.RIGHT)
        schema = _schema(connection, actor)
        changed = manage.change_subscription(
            connection,
            actor,
            schema,
            webhook_id,
            body,
            allow_private=get_state().config.webhook_allow_private,
            origin=_origin(),
        )
    return jsonify(subscription_json(changed, schema))


def delete_webhook(webhook_id: uuid.UUID) -> ResponseReturnValue:
    """Delete a subscription and its delivery log."""
    with tenant_transaction() as (connection, actor):
        manage.delete_subscription(connection, actor, webhook_id, origin=_origin())
    return "", 204


def _filtered(query: sa.Select) -> tuple[sa.Select, int]:
    """The delivery log query narrowed by the request's filters and cursor, and the limit."""
    table = webhook_deliveries.c
    status = request.args.get("status")
    if status is not None:
        if status not in STATUSES:
            raise BadRequest("Unknown status.", fields={"status": f"One of {', '.join(STATUSES)}."})
        query = query.where(table.status == status)
    if request.args.get("event_id") is not None:
        query = query.where(table.event_id == whole_number(request.args["event_id"], "event_id"))
    if request.args.get("cursor") is not None:
        query = query.where(table.id < whole_number(request.args["cursor"], "cursor"))
    if request.args.get("record_id"):
        try:
            query = query.where(table.record_id == uuid.UUID(request.args["record_id"]))
        except ValueError:
            raise BadRequest("Invalid record_id.", fields={"record_id": "A record id."}) from None
    return query, whole_number(request.args.get("limit", "50"), "limit", 1, MAX_LIMIT)


def list_deliveries(webhook_id: uuid.UUID) -> ResponseReturnValue:
    """A subscription's deliveries, newest first."""
    with tenant_transaction() as (connection, actor):
        manage.subscription(connection, actor, webhook_id)
        query, limit = _filtered(
            sa.select(webhook_deliveries)
            .where(webhook_deliveries.c.subscription_id == webhook_id)
            .order_by(webhook_deliveries.c.id.desc())
        )
        rows = connection.execute(query.limit(limit + 1)).all()
    page = rows[:limit]
    return jsonify(
        {
            "data": [delivery_json(row) for row in page],
            "next_cursor": str(page[-1].id) if len(rows) > limit else None,
        }
    )


def get_delivery(webhook_id: uuid.UUID, delivery_id: int) -> ResponseReturnValue:
    """One delivery."""
    with tenant_transaction() as (connection, actor):
        actor.require_right(manage.RIGHT)
        row = connection.execute(
            sa.select(webhook_deliveries).where(manage.delivery_where(webhook_id, delivery_id))
        ).first()
    if row is None:
        raise NotFound(f"No delivery {delivery_id} of webhook subscription {webhook_id}.")
    return jsonify(delivery_json(row))


def replay_delivery(webhook_id: uuid.UUID, delivery_id: int) -> ResponseReturnValue:
    """Send a delivery again, with the same delivery id and body."""
    with tenant_transaction() as (connection, actor):
        manage.replay_delivery(connection, actor, webhook_id, delivery_id, origin=_origin())
    # A queued delivery whose hand-off is lost is re-sent by the outbox sweep.
    nudge_worker("trellis.deliver_webhook", str(actor.tenant_id), delivery_id)
    return jsonify({"id": delivery_id, "status": "queued"}), 202


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    one = "/webhooks/<uuid:webhook_id>"
    rule("/webhooks", view_func=list_webhooks, methods=["GET"])
    rule("/webhooks", view_func=create_webhook, methods=["POST"])
    rule(one, view_func=get_webhook, methods=["GET"])
    rule(one, view_func=change_webhook, methods=["PATCH"])
    rule(one, view_func=delete_webhook, methods=["DELETE"])
    rule(f"{one}/deliveries", view_func=list_deliveries, methods=["GET"])
    rule(f"{one}/deliveries/<row_id:delivery_id>", view_func=get_delivery, methods=["GET"])
    rule(
        f"{one}/deliveries/<row_id:delivery_id>/replay", view_func=replay_delivery, methods=["POST"]
    )
