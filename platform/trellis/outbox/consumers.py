"""What the outbox hands committed record events to, and what its consumers share.

A consumer (automation runs, webhook deliveries, a plugin's own) is announced through
the ``event_consumers`` hook. For each claimed batch of a tenant's events the
dispatcher asks every consumer for a function that turns one event into rows of work
(written in the dispatch transaction, so an event's work commits exactly when the
event is marked dispatched) and then hands the ids of those rows to the consumer's
Celery task. The outbox itself knows nothing of automations or webhooks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from trellis.db import Database
from trellis.metadata.compiled import ObjectSchema
from trellis.records.rules import RecordView, RuleContext

# One event of the ``events`` table (a row: id, type, object_id, record_id, payload…)
# in, the ids of the work rows it caused out.
EventHandler = Callable[[ObjectSchema, Any], list[int]]
Work = list[tuple[uuid.UUID, int]]


class EventConsumer(Protocol):
    """Turns committed record events into work that a Celery task then performs."""

    @property
    def task(self) -> str:
        """The Celery task that performs one piece of work: ``task(tenant_id, work_id)``."""
        ...

    def start_batch(self, connection: Any, context: RuleContext) -> EventHandler:
        """Prepare for one tenant's batch of events (read what every event needs once)."""
        ...

    def stale(self, database: Database) -> Work:
        """Work whose hand-off or worker was lost, to hand to the task again."""
        ...


def backoff_seconds(attempts: int) -> int:
    """Capped exponential backoff of retried work: 2, 4, 8, … seconds, at most five minutes."""
    delay: int = 2**attempts  # typed Any: a negative exponent would give a float
    return min(delay, 300)


def event_views(
    context: RuleContext, obj: ObjectSchema, payload: Mapping[str, Any]
) -> tuple[RecordView, RecordView | None]:
    """The record an event is about (as saved, or as it was before a delete) and, for an
    update, as it was before."""
    record = payload.get("record") or payload.get("prior") or {}
    prior = payload.get("prior") if payload.get("record") is not None else None
    system = {"id": uuid.UUID(payload["record_id"])}
    return (
        context.view(obj, record, system),
        None if prior is None else context.view(obj, prior, system),
    )


def condition_met(
    context: RuleContext,
    obj: ObjectSchema,
    trigger: Mapping[str, Any],
    view: RecordView,
    prior: RecordView | None,
) -> bool:
    """Whether a record change meets a trigger's ``condition`` formula (none: always).

    With ``only_when_changed_to_meet`` an update counts only on the transition into the
    condition, not on every save while it holds."""
    source = trigger.get("condition")
    is_new = prior is None

    def holds(on: RecordView, before: RecordView | None) -> bool:
        if not source:
            return True
        met = context.evaluate(
            obj,
            source,
            on,
            expected_type="checkbox",
            prior=before,
            is_new=before is None and is_new,
        )
        return met is True

    if not holds(view, prior):
        return False
    if trigger.get("only_when_changed_to_meet") and prior is not None:
        return not holds(prior, None)
    return True
