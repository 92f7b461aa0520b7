"""``/api/v1/webhooks``: subscriptions to record events, their delivery log and replay.

Subscriptions hold a signing secret and name where record data goes, so every
endpoint here is for administrators (with the ``admin`` scope), reads included. The
secret is write-only: set on create, rotated with PATCH, never shown again.
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
from trellis.errors import BadRequest, Conflict, NotFound
from trellis.metadata.compiled import TenantSchema
from trellis.records.parameters import whole_number
from trellis.state import get_state
from trellis.webhooks.deliveries import replay
from trellis.webhooks.subscriptions import (
    EDITABLE,
    check_subscription,
    subscription_json,
    webhook_deliveries,
    webhook_subscriptions,
)

STATUSES = ("queued", "sending", "succeeded", "failed", "dead", "skipped")
MAX_LIMIT = 200
MAX_ID = 2**63 - 1  # delivery ids are bigints; a larger one in a URL names nothing


def _schema(connection: Connection, actor: Actor) -> TenantSchema:
    return get_state().metadata_cache.get(connection, actor.tenant_id)


def _subscription(connection: Connection, webhook_id: uuid.UUID, *, lock: bool = False) -> Any:
    query = sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == webhook_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"No webhook subscription {webhook_id}.")
    return row


def _delivery_where(webhook_id: uuid.UUID, delivery_id: int) -> Any:
    if delivery_id > MAX_ID:
        raise NotFound(f"No delivery {delivery_id} of webhook subscription {webhook_id}.")
    return sa.and_(
        webhook_deliveries.c.subscription_id == webhook_id, webhook_deliveries.c.id == delivery_id
    )


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
        actor.require_right("manage_automations")
        rows = connection.execute(
            sa.select(webhook_subscriptions).order_by(
                webhook_subscriptions.c.created_at, webhook_subscriptions.c.id
            )
        ).all()
        schema = _schema(connection, actor)
    return jsonify({"data": [subscription_json(row, schema) for row in rows]})


def create_webhook() -> ResponseReturnValue:
    """Subscribe a URL to record events."""
    body = json_body()
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_automations")
        schema = _schema(connection, actor)
        values = check_subscription(
            schema, body, current=None, allow_private=get_state().config.webhook_allow_private
        )
        row = connection.execute(
            webhook_subscriptions.insert()
            .values(
                tenant_id=actor.tenant_id,
                created_by=actor.user_id,
                updated_by=actor.user_id,
                **values,
            )
            .returning(*webhook_subscriptions.c)
        ).one()
    return jsonify(subscription_json(row, schema)), 201


def get_webhook(webhook_id: uuid.UUID) -> ResponseReturnValue:
    """A webhook subscription."""
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_automations")
        row = _subscription(connection, webhook_id)
        return jsonify(subscription_json(row, _schema(connection, actor)))


def change_webhook(webhook_id: uuid.UUID) -> ResponseReturnValue:
    """Change a subscription; ``active: true`` turns a disabled one on again."""
    body = json_body()
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_automations")
        schema = _schema(connection, actor)
        row = _subscription(connection, webhook_id, lock=True)
        current = {
            key: value for key, value in subscription_json(row, schema).items() if key in EDITABLE
        }
        values = check_subscription(
            schema,
            body,
            current={**current, "secret": row.secret},
            allow_private=get_state().config.webhook_allow_private,
        )
        if values["active"] and not row.active:
            # Switched on again: the failures that switched it off are forgiven.
            values.update(disabled_reason=None, consecutive_failures=0)
        elif not values["active"] and row.active:
            values["disabled_reason"] = None  # switched off by a person, not by failures
        changed = connection.execute(
            webhook_subscriptions.update()
            .where(webhook_subscriptions.c.id == webhook_id)
            .values(updated_by=actor.user_id, updated_at=sa.func.now(), **values)
            .returning(*webhook_subscriptions.c)
        ).one()
    return jsonify(subscription_json(changed, schema))


def delete_webhook(webhook_id: uuid.UUID) -> ResponseReturnValue:
    """Delete a subscription and its delivery log."""
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_automations")
        _subscription(connection, webhook_id)
        connection.execute(
            webhook_subscriptions.delete().where(webhook_subscriptions.c.id == webhook_id)
        )
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
        actor.require_right("manage_automations")
        _subscription(connection, webhook_id)
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
        actor.require_right("manage_automations")
        row = connection.execute(
            sa.select(webhook_deliveries).where(_delivery_where(webhook_id, delivery_id))
        ).first()
    if row is None:
        raise NotFound(f"No delivery {delivery_id} of webhook subscription {webhook_id}.")
    return jsonify(delivery_json(row))


def replay_delivery(webhook_id: uuid.UUID, delivery_id: int) -> ResponseReturnValue:
    """Send a delivery again, with the same delivery id and body."""
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_automations")
        where = _delivery_where(webhook_id, delivery_id)
        if replay(connection, where) is None:
            status = connection.execute(
                sa.select(webhook_deliveries.c.status).where(where)
            ).scalar()
            if status is None:
                raise NotFound(f"No delivery {delivery_id} of webhook subscription {webhook_id}.")
            raise Conflict(
                f"A {status} delivery cannot be replayed; failed, dead and succeeded ones can."
            )
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
