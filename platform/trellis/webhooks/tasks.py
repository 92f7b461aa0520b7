"""Celery task of webhook subscriptions (sending one delivery, retried with backoff), and
webhooks' place among the outbox consumers."""

from __future__ import annotations

import uuid
from typing import Any

from trellis.config import Config
from trellis.hookspecs import hookimpl
from trellis.outbox.consumers import backoff_seconds
from trellis.state import get_state
from trellis.webhooks.circuit_breaker import CircuitBreaker
from trellis.webhooks.deliveries import WebhookDeliveries, send_delivery


@hookimpl
def event_consumers(config: Config) -> list[WebhookDeliveries]:
    return [WebhookDeliveries(config)]


@hookimpl
def register_celery_tasks(celery: Any) -> None:
    @celery.task(name="trellis.deliver_webhook", shared=False, bind=True, max_retries=None)
    def deliver_webhook(self: Any, tenant_id: str, delivery_id: int) -> str:
        """Send one webhook delivery; failures retry with capped exponential backoff."""
        state = get_state()
        status, attempts = send_delivery(
            state.database,
            state.config,
            CircuitBreaker.from_config(state.redis, state.config),
            uuid.UUID(tenant_id),
            delivery_id,
        )
        if status == "failed":
            # The row also records when the retry is due: if this message is lost, the
            # outbox sweep (trellis.dispatch_events) sends the delivery again.
            raise self.retry(countdown=backoff_seconds(attempts))
        return status
