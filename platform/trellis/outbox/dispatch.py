"""The outbox dispatcher: hands committed record events to their consumers.

Every record write commits an ``events`` row with the data. The dispatcher claims
undispatched events (``FOR UPDATE SKIP LOCKED``, so several dispatchers never take
the same one), lets every consumer (:mod:`trellis.outbox.consumers`: automation runs,
webhook deliveries, plugins' own) write the work each event causes, and marks the
events dispatched, all in one transaction. The work is then handed to each consumer's
Celery task; work whose hand-off or worker was lost waits in PostgreSQL until
:func:`stale_work` hands it off again. Nothing is lost while Redis or every worker is
down.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from trellis.actor import system_actor
from trellis.db import Database
from trellis.errors import NotFound
from trellis.identity.tables import tenants
from trellis.metadata.compiled import MetadataCache
from trellis.outbox.consumers import EventConsumer, Work
from trellis.records.rules import RuleContext
from trellis.records.tables import events

log = logging.getLogger(__name__)
BATCH = 200

# Work to hand off, by the Celery task that performs it.
Dispatched = dict[str, Work]


def dispatch_pending(
    database: Database, cache: MetadataCache, consumers: Sequence[EventConsumer]
) -> Dispatched:
    """Dispatch every tenant's pending events to the consumers; return the work queued."""
    with database.platform() as connection:
        tenant_rows = connection.execute(sa.select(tenants.c.id, tenants.c.slug)).all()
    queued: Dispatched = {consumer.task: [] for consumer in consumers}
    for tenant_id, slug in tenant_rows:
        try:
            while True:
                with database.tenant(tenant_id) as connection:
                    claimed, work = _dispatch_batch(connection, cache, tenant_id, slug, consumers)
                for task, work_ids in work.items():
                    queued[task].extend((tenant_id, work_id) for work_id in work_ids)
                if claimed < BATCH:
                    break
        except Exception:
            log.exception("event dispatch failed", extra={"tenant_id": str(tenant_id)})
    return queued


def _dispatch_batch(
    connection: Any,
    cache: MetadataCache,
    tenant_id: uuid.UUID,
    slug: str,
    consumers: Sequence[EventConsumer],
) -> tuple[int, dict[str, list[int]]]:
    pending = connection.execute(
        sa.select(events)
        .where(events.c.tenant_id == tenant_id, events.c.dispatched_at.is_(None))
        .order_by(events.c.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    work: dict[str, list[int]] = {consumer.task: [] for consumer in consumers}
    if not pending:
        return 0, work
    schema = cache.get(connection, tenant_id)
    context = RuleContext(connection, system_actor(tenant_id, slug), schema)
    handlers = [
        (consumer.task, consumer.start_batch(connection, context)) for consumer in consumers
    ]
    for event in pending:
        try:
            obj = schema.by_id(event.object_id)
        except NotFound:
            continue  # the object was deleted since; nothing to do
        for task, handle in handlers:
            work[task] += handle(obj, event)
    connection.execute(
        events.update()
        .where(events.c.id.in_([e.id for e in pending]))
        .values(dispatched_at=sa.func.now())
    )
    return len(pending), work


def stale_work(database: Database, consumers: Sequence[EventConsumer]) -> Dispatched:
    """Every consumer's work to hand to its task again (the outbox sweep)."""
    return {consumer.task: consumer.stale(database) for consumer in consumers}
