"""The outbox dispatcher: turns committed record events into automation runs and
webhook deliveries.

Every record write commits an ``events`` row with the data. The dispatcher claims
undispatched events (``FOR UPDATE SKIP LOCKED``, so several dispatchers never take
the same one), judges each after-save automation's condition on the event's
snapshot, writes one ``automation_runs`` row per event × automation (unique, so a
re-dispatch cannot double a run), writes the deliveries of matching webhook
subscriptions (:func:`trellis.webhooks.subscriptions.fan_out`, unique likewise) and
marks the event dispatched, all in one transaction. Runs are then handed to Celery; a
run whose hand-off was lost stays ``queued``, and one whose worker died stays
``running``: :func:`stale_runs` hands both off again. Nothing is lost while Redis or
every worker is down: events and runs wait in PostgreSQL.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from trellis.actor import system_actor
from trellis.automation.tables import automation_runs
from trellis.automation.triggers import automations_for, condition_met
from trellis.db import Database
from trellis.errors import NotFound
from trellis.identity.tables import tenants
from trellis.metadata.compiled import MetadataCache
from trellis.records.rules import RuleContext
from trellis.records.tables import events
from trellis.rule_engine import FormulaError
from trellis.webhooks.subscriptions import active_subscriptions, event_views, fan_out

log = logging.getLogger(__name__)
BATCH = 200
STALE_SECONDS = 30


class Dispatched(NamedTuple):
    """What a dispatch queued: (tenant, run id) to execute, (tenant, delivery id) to send."""

    runs: list[tuple[uuid.UUID, int]]
    deliveries: list[tuple[uuid.UUID, int]]


def dispatch_pending(database: Database, cache: MetadataCache, *, max_depth: int) -> Dispatched:
    """Dispatch every tenant's pending events into automation runs and webhook deliveries."""
    with database.platform() as connection:
        tenant_rows = connection.execute(sa.select(tenants.c.id, tenants.c.slug)).all()
    queued = Dispatched([], [])
    for tenant_id, slug in tenant_rows:
        try:
            while True:
                with database.tenant(tenant_id) as connection:
                    batch = _dispatch_batch(connection, cache, tenant_id, slug, max_depth)
                queued.runs.extend((tenant_id, run_id) for run_id in batch[1])
                queued.deliveries.extend((tenant_id, delivery_id) for delivery_id in batch[2])
                if batch[0] < BATCH:
                    break
        except Exception:
            log.exception("event dispatch failed", extra={"tenant_id": str(tenant_id)})
    return queued


def _dispatch_batch(
    connection: Any, cache: MetadataCache, tenant_id: uuid.UUID, slug: str, max_depth: int
) -> tuple[int, list[int], list[int]]:
    pending = connection.execute(
        sa.select(events)
        .where(events.c.tenant_id == tenant_id, events.c.dispatched_at.is_(None))
        .order_by(events.c.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not pending:
        return 0, [], []
    schema = cache.get(connection, tenant_id)
    context = RuleContext(connection, system_actor(tenant_id, slug), schema)
    subscriptions = active_subscriptions(connection)
    run_ids: list[int] = []
    delivery_ids: list[int] = []
    for event in pending:
        try:
            obj = schema.by_id(event.object_id)
        except NotFound:
            continue  # the object was deleted since; nothing to run
        delivery_ids += fan_out(connection, context, obj, event, subscriptions)
        for automation in automations_for(obj, event.type, "after_save"):
            status, error = _judge(context, obj, automation, event.payload, max_depth)
            if status is None:
                continue
            run_id = connection.execute(
                pg_insert(automation_runs)
                .values(
                    tenant_id=tenant_id,
                    event_id=event.id,
                    automation=automation["api_name"],
                    object_id=obj.id,
                    record_id=event.record_id,
                    trigger=event.type.removeprefix("record."),
                    status=status,
                    error=error,
                )
                .on_conflict_do_nothing(constraint="uq_automation_runs_key")
                .returning(automation_runs.c.id)
            ).scalar()
            if run_id is not None and status == "queued":
                run_ids.append(run_id)
    connection.execute(
        events.update()
        .where(events.c.id.in_([e.id for e in pending]))
        .values(dispatched_at=sa.func.now())
    )
    return len(pending), run_ids, delivery_ids


def _judge(
    context: RuleContext,
    obj: Any,
    automation: dict[str, Any],
    payload: dict[str, Any],
    max_depth: int,
) -> tuple[str | None, str | None]:
    """``queued``, ``skipped`` with the reason, or None when the condition is not met."""
    chain = payload.get("chain") or {}
    if chain.get("depth", 0) >= max_depth:
        return "skipped", (
            f"Stopped: automation chain reached depth {max_depth} "
            f"({' → '.join(step[0] for step in chain.get('seen', []))})."
        )
    if [automation["api_name"], payload["record_id"]] in chain.get("seen", []):
        return "skipped", "Stopped: this automation already ran on this record in this chain."
    try:
        met = condition_met(context, obj, automation, *event_views(context, obj, payload))
    except FormulaError as error:
        return "skipped", f"The condition could not be evaluated: {error}"
    return ("queued", None) if met else (None, None)


def stale_runs(database: Database, *, max_attempts: int) -> list[tuple[uuid.UUID, int]]:
    """Runs to hand to a worker again: their hand-off or their worker was lost.

    * ``queued`` for a while: the message never reached a worker (Redis was down, say);
    * ``running`` with nobody holding its lease: the worker executing it was killed
      part-way. Celery's late acknowledgement would redeliver the message, but only
      once the broker's visibility timeout (an hour) has passed, and a worker that
      dies with its retry still waiting in memory (``failed``) loses it the same way,
      so both are sent again from here. An abandoned run that was on its last attempt
      becomes ``dead`` instead, so a run that kills its worker cannot loop for ever.
    """
    from trellis.automation.leases import lease_held

    runs = automation_runs.c
    # A failed run's retry is due ``backoff_seconds(attempts)`` after it failed.
    retry_due = sa.func.least(sa.func.power(2, runs.attempts), 300) + STALE_SECONDS
    ago = sa.func.now() - sa.text(f"interval '{STALE_SECONDS} seconds'")
    abandoned = sa.and_(runs.status == "running", ~lease_held(runs.id))
    found: list[tuple[uuid.UUID, int]] = []
    with database.platform() as connection:
        tenant_ids = connection.execute(sa.select(tenants.c.id)).scalars().all()
    for tenant_id in tenant_ids:
        with database.tenant(tenant_id) as connection:
            connection.execute(
                automation_runs.update()
                .where(abandoned, runs.attempts >= max_attempts)
                .values(
                    status="dead",
                    finished_at=sa.func.now(),
                    error="The worker executing the last attempt stopped before it finished.",
                )
            )
            found += [
                (tenant_id, run_id)
                for run_id in connection.execute(
                    sa.select(runs.id).where(
                        sa.or_(
                            sa.and_(runs.status == "queued", runs.queued_at < ago),
                            abandoned,
                            sa.and_(
                                runs.status == "failed",
                                ~lease_held(runs.id),
                                runs.finished_at
                                < sa.func.now()
                                - sa.func.make_interval(0, 0, 0, 0, 0, 0, retry_due),
                            ),
                        )
                    )
                ).scalars()
            ]
    return found
