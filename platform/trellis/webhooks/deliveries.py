"""Sending webhook deliveries: signed, retried with backoff, logged, replayable.

A delivery is claimed (``queued``/``failed`` → ``sending``) in one short transaction,
sent with no database connection held, and finished in another: ``succeeded``,
``failed`` (retried after a capped exponential backoff) or, after
``webhook_max_attempts``, ``dead`` until replayed. ``webhook_disable_after``
consecutive dead deliveries turn the subscription off, with the reason in
``disabled_reason``. The ``X-Trellis-Delivery`` header carries the delivery id, the
same on every attempt and replay, so receivers can drop duplicates.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import sqlalchemy as sa

from trellis.config import Config
from trellis.db import Database
from trellis.identity.tables import tenants
from trellis.metadata.compiled import ObjectSchema
from trellis.outbox.consumers import EventHandler, Work, backoff_seconds
from trellis.records.rules import RuleContext
from trellis.records.tables import events
from trellis.state import get_state
from trellis.webhooks.circuit_breaker import CircuitBreaker
from trellis.webhooks.destinations import DestinationRefused
from trellis.webhooks.outbound import Delivery, deliver
from trellis.webhooks.readers import subscription_reader, visible_payload
from trellis.webhooks.subscriptions import (
    active_subscriptions,
    fan_out,
    webhook_deliveries,
    webhook_subscriptions,
)

DELIVERY_HEADER = "X-Trellis-Delivery"
EVENT_HEADER = "X-Trellis-Event"
STALE_SECONDS = 30
REPLAYABLE = frozenset({"dead", "failed", "succeeded"})


@dataclasses.dataclass(frozen=True)
class WebhookDeliveries:
    """The outbox consumer that writes a delivery per matching subscription and event."""

    config: Config
    task: str = "trellis.deliver_webhook"

    def start_batch(self, connection: Any, context: RuleContext) -> EventHandler:
        subscriptions = active_subscriptions(connection)  # once per batch, not per event
        slug = context.actor.tenant_slug
        readers = {
            subscription.id: subscription_reader(connection, context.schema, subscription, slug)
            for subscription in subscriptions
        }

        def deliveries(obj: ObjectSchema, event: Any) -> list[int]:
            return fan_out(connection, context, obj, event, subscriptions, readers)

        return deliveries

    def stale(self, database: Database) -> Work:
        return stale_deliveries(database, self.config)


def send_delivery(
    database: Database,
    config: Config,
    breaker: CircuitBreaker | None,
    tenant_id: uuid.UUID,
    delivery_id: int,
) -> tuple[str, int]:
    """Make one attempt at a delivery; return its status and attempts afterwards."""
    with database.tenant(tenant_id) as connection:
        claimed = _claim(connection, delivery_id, config)
        if claimed is None:
            status = connection.execute(
                sa.select(webhook_deliveries.c.status, webhook_deliveries.c.attempts).where(
                    webhook_deliveries.c.id == delivery_id
                )
            ).first()
            return (status.status, status.attempts) if status else ("missing", 0)
        subscription, body = _request(connection, claimed)
    try:
        outcome = deliver(
            subscription.url,
            body,
            secret=subscription.secret,
            timeout=config.webhook_timeout_seconds,
            allow_private=config.webhook_allow_private,
            breaker=breaker,
            headers={DELIVERY_HEADER: str(delivery_id), EVENT_HEADER: claimed.event_type},
        )
    except DestinationRefused as error:
        # The host may resolve to a private address now, though it did not when saved.
        outcome = Delivery(None, False, 0, error=error.message)
    with database.tenant(tenant_id) as connection:
        return _finish(connection, config, claimed, outcome)


def _claim(connection: Any, delivery_id: int, config: Config) -> Any:
    """Take the delivery for one attempt. A delivery left ``sending`` by a crashed worker
    may be taken again once its attempt must have ended."""
    lease = int(config.webhook_timeout_seconds) + STALE_SECONDS
    table = webhook_deliveries.c
    return connection.execute(
        webhook_deliveries.update()
        .where(
            table.id == delivery_id,
            sa.or_(
                table.status.in_(["queued", "failed"]),
                sa.and_(
                    table.status == "sending",
                    table.last_attempt_at < sa.func.now() - sa.text(f"interval '{lease} seconds'"),
                ),
            ),
        )
        .values(
            status="sending",
            attempts=table.attempts + 1,
            last_attempt_at=sa.func.now(),
            next_attempt_at=None,
        )
        .returning(*webhook_deliveries.c)
    ).first()


def _request(connection: Any, delivery: Any) -> tuple[Any, dict[str, Any]]:
    """The subscription as it is now (its URL and secret may have changed) and the body,
    built from the event's snapshot, so every attempt and replay sends the same data."""
    subscription = connection.execute(
        sa.select(webhook_subscriptions).where(
            webhook_subscriptions.c.id == delivery.subscription_id
        )
    ).one()
    event = connection.execute(sa.select(events).where(events.c.id == delivery.event_id)).one()
    payload = event.payload
    body = {
        "id": str(delivery.id),
        "subscription_id": str(subscription.id),
        "event_id": event.id,
        "event": event.type,
        "object": payload.get("object"),
        "record_id": str(event.record_id),
        "record": payload.get("record"),
        "prior": payload.get("prior"),
        "changes": payload.get("changes") or {},
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "occurred_at": event.created_at.isoformat(),
    }
    if subscription.created_by is None:
        return subscription, body
    # A user's subscription: what its creator may read now, in this body too.
    schema = get_state().metadata_cache.get(connection, delivery.tenant_id)
    slug = connection.execute(
        sa.select(tenants.c.slug).where(tenants.c.id == delivery.tenant_id)
    ).scalar_one()
    reader = subscription_reader(connection, schema, subscription, slug)
    obj = schema.objects.get(str(payload.get("object", "")).lower())
    return subscription, body if obj is None else visible_payload(reader, obj, body)


def _finish(connection: Any, config: Config, delivery: Any, outcome: Delivery) -> tuple[str, int]:
    error = None if outcome.ok else (outcome.error or f"HTTP {outcome.status_code}")
    status = (
        "succeeded"
        if outcome.ok
        else ("dead" if delivery.attempts >= config.webhook_max_attempts else "failed")
    )
    connection.execute(
        webhook_deliveries.update()
        .where(webhook_deliveries.c.id == delivery.id)
        .values(
            status=status,
            error=error,
            response_status=outcome.status_code,
            response_excerpt=outcome.response_excerpt or None,
            duration_ms=outcome.duration_ms,
            next_attempt_at=sa.func.now()
            + sa.text(f"interval '{backoff_seconds(delivery.attempts)} seconds'")
            if status == "failed"
            else None,
        )
    )
    subscriptions = webhook_subscriptions.c
    if status == "succeeded":
        connection.execute(
            webhook_subscriptions.update()
            .where(
                subscriptions.id == delivery.subscription_id, subscriptions.consecutive_failures > 0
            )
            .values(consecutive_failures=0)
        )
    elif status == "dead":
        failures = connection.execute(
            webhook_subscriptions.update()
            .where(subscriptions.id == delivery.subscription_id)
            .values(consecutive_failures=subscriptions.consecutive_failures + 1)
            .returning(subscriptions.consecutive_failures, subscriptions.active)
        ).first()
        if (
            failures is not None
            and failures.active
            and failures.consecutive_failures >= config.webhook_disable_after
        ):
            connection.execute(
                webhook_subscriptions.update()
                .where(subscriptions.id == delivery.subscription_id)
                .values(
                    active=False,
                    updated_at=sa.func.now(),
                    disabled_reason=(
                        f"Disabled after {failures.consecutive_failures} deliveries in a row "
                        f"failed {delivery.attempts} times each; the last error: {error}"
                    ),
                )
            )
    return status, delivery.attempts


def replay(connection: Any, which: Any) -> Any:
    """Queue the delivery ``which`` selects again, from its first attempt; None when there
    is no such delivery or it is not replayable."""
    return connection.execute(
        webhook_deliveries.update()
        .where(which, webhook_deliveries.c.status.in_(sorted(REPLAYABLE)))
        .values(
            status="queued",
            attempts=0,
            error=None,
            response_status=None,
            response_excerpt=None,
            duration_ms=None,
            next_attempt_at=None,
        )
        .returning(webhook_deliveries.c.id)
    ).scalar()


def stale_deliveries(database: Database, config: Config) -> Work:
    """Deliveries whose hand-off to a worker seems lost: queued for a while, failed and
    well past their retry time, or stuck ``sending`` after a worker crashed."""
    lease = int(config.webhook_timeout_seconds) + STALE_SECONDS
    table = webhook_deliveries.c

    def ago(seconds: int) -> Any:
        return sa.func.now() - sa.text(f"interval '{seconds} seconds'")

    found: list[tuple[uuid.UUID, int]] = []
    with database.platform() as connection:
        tenant_ids = connection.execute(sa.select(tenants.c.id)).scalars().all()
    for tenant_id in tenant_ids:
        with database.tenant(tenant_id) as connection:
            found += [
                (tenant_id, delivery_id)
                for delivery_id in connection.execute(
                    sa.select(table.id).where(
                        sa.or_(
                            sa.and_(
                                table.status == "queued", table.created_at < ago(STALE_SECONDS)
                            ),
                            sa.and_(
                                table.status == "failed", table.next_attempt_at < ago(STALE_SECONDS)
                            ),
                            sa.and_(table.status == "sending", table.last_attempt_at < ago(lease)),
                        )
                    )
                ).scalars()
            ]
    return found
