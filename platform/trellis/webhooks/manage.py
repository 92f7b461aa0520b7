"""Managing webhook subscriptions and replaying their deliveries: the one implementation
the API and the Setup screens share, so both check, store and audit alike.

Subscriptions hold a signing secret and name where record data goes, so every function
here needs the ``manage_automations`` right, reads included.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.errors import Conflict, NotFound
from trellis.metadata.compiled import TenantSchema
from trellis.webhooks.deliveries import replay
from trellis.webhooks.subscriptions import (
    EDITABLE,
    check_subscription,
    subscription_json,
    webhook_deliveries,
    webhook_subscriptions,
)

RIGHT = "manage_automations"
MAX_ID = 2**63 - 1  # delivery ids are bigints; a larger one in a URL names nothing


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a change came from, for its audit event."""

    address: str | None = None
    user_agent: str | None = None


def _audit(
    connection: Connection, actor: Actor, action: str, row: Any, origin: Origin, **details: Any
) -> None:
    record_audit(
        connection,
        actor,
        action,
        target_type="webhook_subscription",
        target_id=row.id,
        details={"name": row.name, "url": row.url, **details},
        address=origin.address,
        user_agent=origin.user_agent,
    )


def subscriptions(connection: Connection, actor: Actor) -> list[Any]:
    actor.require_right(RIGHT)
    return list(
        connection.execute(
            sa.select(webhook_subscriptions).order_by(
                webhook_subscriptions.c.created_at, webhook_subscriptions.c.id
            )
        )
    )


def subscription(
    connection: Connection, actor: Actor, webhook_id: uuid.UUID, *, lock: bool = False
) -> Any:
    actor.require_right(RIGHT)
    query = sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id == webhook_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"No webhook subscription {webhook_id}.")
    return row


def create_subscription(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    body: Mapping[str, Any],
    *,
    allow_private: bool,
    origin: Origin = Origin(),
) -> Any:
    """Subscribe a URL to record events; the stored row."""
    actor.require_right(RIGHT)
    values = check_subscription(schema, body, current=None, allow_private=allow_private)
    row = connection.execute(
        webhook_subscriptions.insert()
        .values(
            tenant_id=actor.tenant_id, created_by=actor.user_id, updated_by=actor.user_id, **values
        )
        .returning(*webhook_subscriptions.c)
    ).one()
    _audit(connection, actor, "webhook.created", row, origin)
    return row


def change_subscription(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    webhook_id: uuid.UUID,
    body: Mapping[str, Any],
    *,
    allow_private: bool,
    origin: Origin = Origin(),
) -> Any:
    """Change a subscription (``active: true`` turns a disabled one on again); the row."""
    row = subscription(connection, actor, webhook_id, lock=True)
    current = {
        key: value for key, value in subscription_json(row, schema).items() if key in EDITABLE
    }
    values = check_subscription(
        schema, body, current={**current, "secret": row.secret}, allow_private=allow_private
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
    # Which properties were sent, never their values: the secret is among them.
    _audit(connection, actor, "webhook.changed", changed, origin, changed=sorted(body))
    return changed


def delete_subscription(
    connection: Connection, actor: Actor, webhook_id: uuid.UUID, *, origin: Origin = Origin()
) -> None:
    """Delete a subscription and its delivery log."""
    row = subscription(connection, actor, webhook_id, lock=True)
    connection.execute(
        webhook_subscriptions.delete().where(webhook_subscriptions.c.id == webhook_id)
    )
    _audit(connection, actor, "webhook.deleted", row, origin)


def delivery_where(webhook_id: uuid.UUID, delivery_id: int) -> Any:
    if delivery_id > MAX_ID:
        raise NotFound(f"No delivery {delivery_id} of webhook subscription {webhook_id}.")
    return sa.and_(
        webhook_deliveries.c.subscription_id == webhook_id, webhook_deliveries.c.id == delivery_id
    )


def replay_delivery(
    connection: Connection,
    actor: Actor,
    webhook_id: uuid.UUID,
    delivery_id: int,
    *,
    origin: Origin = Origin(),
) -> None:
    """Queue a delivery again, with the same delivery id and body; the caller nudges a
    worker once this has committed."""
    actor.require_right(RIGHT)
    where = delivery_where(webhook_id, delivery_id)
    if replay(connection, where) is None:
        status = connection.execute(sa.select(webhook_deliveries.c.status).where(where)).scalar()
        if status is None:
            raise NotFound(f"No delivery {delivery_id} of webhook subscription {webhook_id}.")
        raise Conflict(
            f"A {status} delivery cannot be replayed; failed, dead and succeeded ones can."
        )
    record_audit(
        connection,
        actor,
        "webhook.replayed",
        target_type="webhook_delivery",
        target_id=str(delivery_id),
        details={"subscription_id": str(webhook_id)},
        address=origin.address,
        user_agent=origin.user_agent,
    )
