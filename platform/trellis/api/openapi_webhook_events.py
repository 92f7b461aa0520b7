"""The document's top-level ``webhooks``: what a webhook subscription's URL receives.

One entry per event type, each a ``POST`` whose body is exactly what
:func:`trellis.webhooks.deliveries._request` builds from an outbox event, with the
headers :mod:`trellis.webhooks.deliveries` and :mod:`trellis.webhooks.signing` add."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    INTEGER,
    MOMENT,
    OPTIONAL_UUID,
    TEXT,
    UUID,
    array,
    parameter,
    ref,
    shape,
)
from trellis.webhooks.deliveries import DELIVERY_HEADER, EVENT_HEADER
from trellis.webhooks.signing import REPLAY_WINDOW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER
from trellis.webhooks.subscriptions import EVENT_TYPES

WEBHOOKS_TAG = "Webhooks"
# What the record and its prior state hold in each event (both are field values by API
# name, the stored fields only; a subscription made by a user leaves out what they may
# not read).
STATES = {
    "created": ("The record as created.", None),
    "updated": ("The record as saved.", "The record before the change."),
    "deleted": (None, "The record as it was when deleted."),
    "restored": ("The record as restored from the recycle bin.", None),
}


def event_schema() -> dict[str, Any]:
    """``WebhookEvent``: the body of every delivery."""
    values = {"type": ["object", "null"], "additionalProperties": True}
    return shape(
        {
            "id": {**TEXT, "description": f"The delivery's id, as in {DELIVERY_HEADER}."},
            "subscription_id": UUID,
            "event_id": {**INTEGER, "description": "The outbox event's id."},
            "event": {"enum": [f"record.{kind}" for kind in EVENT_TYPES]},
            "object": {**TEXT, "description": "The record's object (API name)."},
            "record_id": UUID,
            "record": {**values, "description": "Field values after the event (null if gone)."},
            "prior": {**values, "description": "Field values before it (null for new ones)."},
            "changes": {
                "type": "object",
                "description": "[old, new] by changed field; empty for restores.",
                "additionalProperties": array({}, minItems=2, maxItems=2),
            },
            "actor_id": {**OPTIONAL_UUID, "description": "The user who made the change."},
            "occurred_at": MOMENT,
        },
        [
            "id",
            "subscription_id",
            "event_id",
            "event",
            "object",
            "record_id",
            "record",
            "prior",
            "changes",
            "actor_id",
            "occurred_at",
        ],
        description="One record event, as a webhook subscription receives it.",
    )


def webhook_headers() -> list[dict[str, Any]]:
    return [
        parameter(
            DELIVERY_HEADER,
            "header",
            TEXT,
            "The delivery's id: the same on every retry and replay, to drop duplicates.",
        ),
        parameter(EVENT_HEADER, "header", TEXT, "The event type, e.g. `record.updated`."),
        parameter(
            TIMESTAMP_HEADER,
            "header",
            {"type": "string", "pattern": "^[0-9]+$"},
            f"Unix seconds; refuse a request more than {REPLAY_WINDOW_SECONDS} s from now.",
        ),
        parameter(
            SIGNATURE_HEADER,
            "header",
            {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
            "`sha256=` and the hex HMAC-SHA256, with the subscription's secret, of the "
            "timestamp, a dot and the raw body.",
        ),
    ]


def webhooks() -> dict[str, Any]:
    """The top-level ``webhooks`` of the document, one per event type."""
    found = {}
    for kind in EVENT_TYPES:
        record, prior = STATES.get(kind, (None, None))
        state = " ".join(
            f"`{name}`: {text}" for name, text in (("record", record), ("prior", prior)) if text
        )
        found[f"record.{kind}"] = {
            "post": {
                "operationId": f"record{kind.title()}Webhook",
                "summary": f"A record was {kind}",
                "description": f"Sent to each active subscription whose objects, event types "
                f"and filter match a record {kind} event. {state} Answer with a 2xx status "
                "within the timeout; anything else is retried with backoff.",
                "tags": [WEBHOOKS_TAG],
                "security": [],
                "parameters": [{**header, "required": True} for header in webhook_headers()],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("WebhookEvent")}},
                },
                "responses": {
                    "2XX": {"description": "Received; the delivery succeeds."},
                    "default": {"description": "Any other answer fails this attempt."},
                },
            }
        }
    return found
