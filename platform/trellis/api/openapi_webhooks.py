"""The OpenAPI description of the webhook endpoints (:mod:`trellis.api.webhooks`):
subscriptions, their delivery log and replay."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    API_NAME,
    BOOLEAN,
    INTEGER,
    MOMENT,
    OPTIONAL_MOMENT,
    OPTIONAL_TEXT,
    READ,
    REMOVE,
    TEXT,
    UUID,
    WRITE,
    array,
    data_of,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.api.webhooks import MAX_ID, MAX_LIMIT, STATUSES
from trellis.webhooks.subscriptions import EVENT_TYPES, MAX_TEXT, SECRET_LENGTH

WEBHOOKS_TAG = "Webhooks"
ONE = "/webhooks/{webhook_id}"


def openapi_schemas() -> dict[str, Any]:
    """``WebhookSubscription`` (with its input and patch) and ``WebhookDelivery``."""
    optional_integer = {"type": ["integer", "null"]}
    editable = {
        "name": {**OPTIONAL_TEXT, "maxLength": MAX_TEXT["name"]},
        "description": {**OPTIONAL_TEXT, "maxLength": MAX_TEXT["description"]},
        "url": {
            "type": "string",
            "format": "uri",
            "maxLength": MAX_TEXT["url"],
            "description": "http(s) URL of a public address.",
        },
        "objects": array(API_NAME, description="Objects whose events are sent; empty: all."),
        "event_types": array({"enum": list(EVENT_TYPES)}, minItems=1, uniqueItems=True),
        "filter": {
            **OPTIONAL_TEXT,
            "maxLength": MAX_TEXT["filter"],
            "description": "A condition formula on the record; only events meeting it are sent.",
        },
        "active": BOOLEAN,
    }
    secret = {
        "type": "string",
        "minLength": SECRET_LENGTH[0],
        "maxLength": SECRET_LENGTH[1],
        "writeOnly": True,
        "description": "Signs each delivery (X-Trellis-Signature).",
    }
    shown = {
        **editable,
        "id": UUID,
        "disabled_reason": OPTIONAL_TEXT,
        "consecutive_failures": INTEGER,
        "created_at": MOMENT,
        "updated_at": MOMENT,
    }
    delivery = {
        "id": INTEGER,
        "subscription_id": UUID,
        "event_id": INTEGER,
        "event": TEXT,
        "object": TEXT,
        "record_id": UUID,
        "status": {"enum": list(STATUSES)},
        "attempts": INTEGER,
        "response_status": optional_integer,
        "response_excerpt": OPTIONAL_TEXT,
        "error": OPTIONAL_TEXT,
        "duration_ms": optional_integer,
        "created_at": MOMENT,
        "last_attempt_at": OPTIONAL_MOMENT,
        "next_attempt_at": OPTIONAL_MOMENT,
    }
    return {
        "WebhookSubscription": shape(shown, shown),
        "WebhookSubscriptionInput": shape({**editable, "secret": secret}, ["url", "secret"]),
        "WebhookSubscriptionPatch": shape({**editable, "secret": secret}),
        "WebhookDelivery": shape(delivery, delivery),
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    """The subscription endpoints and their delivery log."""
    return {**subscription_paths(), **delivery_paths()}


def webhook_id_parameter() -> dict[str, Any]:
    return parameter("webhook_id", "path", UUID, "The subscription's id.")


def subscription_paths() -> dict[str, dict[str, Any]]:
    """``/webhooks`` and one subscription: list, create, read, change, delete."""
    tag, subscription = WEBHOOKS_TAG, ref("WebhookSubscription")
    webhook_id, one = webhook_id_parameter(), ONE
    return {
        "/webhooks": {
            "get": operation(
                "listWebhooks",
                "Webhook subscriptions",
                tag,
                200,
                data_of(subscription),
                errors=(403,),
            ),
            "post": operation(
                "createWebhook",
                "Subscribe a URL to record events",
                tag,
                201,
                subscription,
                errors=WRITE,
                body=ref("WebhookSubscriptionInput"),
            ),
        },
        one: {
            "get": operation(
                "getWebhook",
                "A webhook subscription",
                tag,
                200,
                subscription,
                errors=(403, 404),
                parameters=[webhook_id],
            ),
            "patch": operation(
                "changeWebhook",
                "Change a subscription; `active: true` switches a disabled one on again",
                tag,
                200,
                subscription,
                errors=WRITE,
                parameters=[webhook_id],
                body=ref("WebhookSubscriptionPatch"),
            ),
            "delete": operation(
                "deleteWebhook",
                "Delete a subscription and its deliveries",
                tag,
                204,
                errors=REMOVE,
                parameters=[webhook_id],
            ),
        },
    }


def delivery_filters() -> list[dict[str, Any]]:
    """The query parameters of the delivery log: by status, event or record, and paging."""
    return [
        parameter("status", "query", {"enum": list(STATUSES)}, "Deliveries in this state."),
        parameter(
            "event_id",
            "query",
            {"type": "string", "pattern": "^[0-9]{1,18}$"},
            "Deliveries of one event.",
        ),
        parameter("record_id", "query", UUID, "Deliveries about one record."),
        parameter(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
            "Deliveries per page.",
        ),
        parameter("cursor", "query", TEXT, "The previous page's `next_cursor`."),
    ]


def delivery_paths() -> dict[str, dict[str, Any]]:
    """A subscription's delivery log: list, read one, replay one."""
    tag, webhook_id, one = WEBHOOKS_TAG, webhook_id_parameter(), ONE
    delivery_id = parameter(
        "delivery_id",
        "path",
        {"type": "integer", "minimum": 0, "maximum": MAX_ID},
        "The delivery's id.",
    )
    page = shape(
        {"data": array(ref("WebhookDelivery")), "next_cursor": OPTIONAL_TEXT},
        ["data", "next_cursor"],
    )
    filters = delivery_filters()
    queued = shape({"id": INTEGER, "status": {"const": "queued"}}, ["id", "status"])
    return {
        f"{one}/deliveries": {
            "get": operation(
                "listWebhookDeliveries",
                "Deliveries, newest first",
                tag,
                200,
                page,
                errors=(*READ, 403),
                parameters=[webhook_id, *filters],
            )
        },
        f"{one}/deliveries/{{delivery_id}}": {
            "get": operation(
                "getWebhookDelivery",
                "A delivery",
                tag,
                200,
                ref("WebhookDelivery"),
                errors=(403, 404),
                parameters=[webhook_id, delivery_id],
            )
        },
        f"{one}/deliveries/{{delivery_id}}/replay": {
            "post": operation(
                "replayWebhookDelivery",
                "Send a delivery again (same id and body)",
                tag,
                202,
                queued,
                errors=(403, 404, 409),
                parameters=[webhook_id, delivery_id],
            )
        },
    }
