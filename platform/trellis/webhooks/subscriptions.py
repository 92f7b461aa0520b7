"""Webhook subscriptions: API consumers subscribe to record events.

A subscription names a URL and its signing secret, the objects and event types it
wants (empty objects: all of them) and an optional filter formula. The outbox
dispatcher calls :func:`fan_out` for every event, in the transaction that marks the
event dispatched, so each matching subscription gets exactly one ``webhook_deliveries``
row per event (unique, so a re-dispatch cannot double it). The deliveries are then
sent by :mod:`trellis.webhooks.deliveries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from trellis.access.gate import Access
from trellis.db import metadata
from trellis.errors import TrellisError, ValidationError
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.formula_checks import formula_errors
from trellis.outbox.consumers import condition_met, event_views
from trellis.records.rules import RuleContext
from trellis.rule_engine import FormulaError
from trellis.webhooks.destinations import DestinationRefused, check_destination

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", _uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("name", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("objects", JSONB, nullable=False),
    sa.Column("event_types", JSONB, nullable=False),
    sa.Column("filter", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("created_by", _uuid),
    sa.Column("updated_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("updated_by", _uuid),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("subscription_id", _uuid, nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("object", sa.Text, nullable=False),
    sa.Column("record_id", _uuid, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_excerpt", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("created_at", _timestamp, server_default=sa.text("now()")),
    sa.Column("last_attempt_at", _timestamp),
    sa.Column("next_attempt_at", _timestamp),
)

# The event types the records service writes to the outbox, as subscribers name them.
EVENT_TYPES = ("created", "updated", "deleted", "restored")
EDITABLE = ("name", "description", "url", "secret", "objects", "event_types", "filter", "active")
SECRET_LENGTH = (8, 200)
MAX_TEXT = {"name": 200, "description": 2000, "url": 2000, "filter": 5000}


# --- Definitions --------------------------------------------------------------------


def check_subscription(
    schema: TenantSchema,
    body: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None,
    allow_private: bool,
) -> dict[str, Any]:
    """The column values of a subscription created from ``body`` (or of ``current`` changed
    by it), or a :class:`ValidationError` naming every bad property."""
    errors: dict[str, list[str]] = {}
    for key in body:
        if key not in EDITABLE:
            errors[key] = [f"Unknown property; use {', '.join(EDITABLE)}."]
    merged = {**(current or {}), **{key: body[key] for key in EDITABLE if key in body}}
    for key, limit in MAX_TEXT.items():
        value = merged.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[key] = [f"Text of at most {limit} characters."]
    if not merged.get("url"):
        errors.setdefault("url", ["Required."])
    elif "url" not in errors and "url" in body:
        try:
            check_destination(merged["url"], allow_private=allow_private)
        except DestinationRefused as error:
            errors["url"] = [error.message]
    secret = merged.get("secret")
    if not isinstance(secret, str) or not SECRET_LENGTH[0] <= len(secret) <= SECRET_LENGTH[1]:
        errors["secret"] = [
            "Required: the shared signing secret, {}–{} characters.".format(*SECRET_LENGTH)
        ]
    if not isinstance(merged.get("active", True), bool):
        errors["active"] = ["true or false."]
    event_types = merged.get("event_types", list(EVENT_TYPES))
    if (
        not isinstance(event_types, list)
        or not event_types
        or not all(isinstance(kind, str) and kind in EVENT_TYPES for kind in event_types)
    ):
        errors["event_types"] = [f"A non-empty list of {', '.join(EVENT_TYPES)}."]
    objects = _objects(schema, merged.get("objects", []), errors)
    if merged.get("filter") and "filter" not in errors:
        _check_filter(schema, objects, merged["filter"], errors)
    if errors:
        raise ValidationError("The webhook subscription is invalid.", fields=errors)
    values = {key: merged.get(key) for key in ("name", "description", "url", "secret", "filter")}
    values.update(
        objects=[str(obj.id) for obj in objects],
        event_types=[kind for kind in EVENT_TYPES if kind in event_types],
        active=merged.get("active", True),
    )
    values["filter"] = values["filter"] or None
    return values


def _objects(schema: TenantSchema, names: Any, errors: dict[str, list[str]]) -> list[ObjectSchema]:
    if not isinstance(names, list):
        errors["objects"] = ["A list of object API names (empty: every object)."]
        return []
    found: list[ObjectSchema] = []
    for index, name in enumerate(names):
        obj = schema.objects.get(name.lower()) if isinstance(name, str) else None
        if obj is None:
            errors[f"objects.{index}"] = [f"No object {name!r}."]
        elif obj not in found:
            found.append(obj)
    return found


def _check_filter(
    schema: TenantSchema, objects: list[ObjectSchema], source: str, errors: dict[str, list[str]]
) -> None:
    """The filter must be a checkbox formula valid on every object it can see."""
    if not objects:
        if not any(key.startswith("objects") for key in errors):
            errors["filter"] = ["A filter reads fields, so name the objects it applies to."]
        return
    for obj in objects:
        try:
            schema.formulas.compile(obj, source, expected_type="checkbox")
        except FormulaError as error:
            [message] = formula_errors("filter", error)["filter"]
            errors.setdefault("filter", []).append(
                message if len(objects) == 1 else f"{obj.api_name}: {message}"
            )


def subscription_json(row: Any, schema: TenantSchema) -> dict[str, Any]:
    """A subscription as the API shows it: object names, and never the secret."""
    names = []
    for object_id in row.objects:
        obj = next((o for o in schema.objects.values() if str(o.id) == object_id), None)
        if obj is not None:  # an object deleted since no longer matters
            names.append(obj.api_name)
    return {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "url": row.url,
        "objects": names,
        "event_types": list(row.event_types),
        "filter": row.filter,
        "active": row.active,
        "disabled_reason": row.disabled_reason,
        "consecutive_failures": row.consecutive_failures,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


# --- Fan-out --------------------------------------------------------------------------


def active_subscriptions(connection: Any) -> list[Any]:
    """The tenant's active subscriptions, read once per dispatched batch."""
    return connection.execute(
        sa.select(webhook_subscriptions)
        .where(webhook_subscriptions.c.active)
        .order_by(webhook_subscriptions.c.created_at)
    ).all()


def fan_out(
    connection: Any,
    context: RuleContext,
    obj: ObjectSchema,
    event: Any,
    subscriptions: list[Any],
    readers: Mapping[Any, Access | None],
) -> list[int]:
    """Write a delivery for each subscription ``event`` matches; return the queued ids.

    A filter that cannot be evaluated any more (a field it reads was deleted since) gives
    a ``skipped`` delivery with the reason, so the subscriber's log shows why nothing came.
    """
    kind = event.type.removeprefix("record.")
    queued: list[int] = []
    views = None
    for subscription in subscriptions:
        if kind not in subscription.event_types or (
            subscription.objects and str(obj.id) not in subscription.objects
        ):
            continue
        reader = readers.get(subscription.id)
        if reader is not None and not reader.permits(connection, obj, event.record_id, "read"):
            continue  # the subscription's creator may not read this record
        status, error = "queued", None
        if subscription.filter:
            views = views or event_views(context, obj, event.payload)
            try:
                if not condition_met(context, obj, {"condition": subscription.filter}, *views):
                    continue
            except (FormulaError, TrellisError) as failure:
                status, error = "skipped", f"The filter could not be evaluated: {failure}"
        delivery_id = connection.execute(
            pg_insert(webhook_deliveries)
            .values(
                tenant_id=event.tenant_id,
                subscription_id=subscription.id,
                event_id=event.id,
                event_type=event.type,
                object=obj.api_name,
                record_id=event.record_id,
                status=status,
                error=error,
            )
            .on_conflict_do_nothing(constraint="uq_webhook_deliveries_key")
            .returning(webhook_deliveries.c.id)
        ).scalar()
        if delivery_id is not None and status == "queued":
            queued.append(delivery_id)
    return queued
