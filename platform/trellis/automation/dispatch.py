"""The outbox dispatcher: turns committed record events into automation runs.

Every record write commits an ``events`` row with the data. The dispatcher claims
undispatched events (``FOR UPDATE SKIP LOCKED``, so several dispatchers never take
the same one), judges each after-save automation's condition on the event's
snapshot, writes one ``automation_runs`` row per event × automation (unique, so a
re-dispatch cannot double a run) and marks the event dispatched, all in one
transaction. Runs are then handed to Celery; a run whose hand-off was lost stays
``queued`` and is handed off again by :func:`stale_runs`. Nothing is lost while Redis
or every worker is down: events and runs wait in PostgreSQL.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from trellis.actor import system_actor
from trellis.automation.triggers import automations_for, condition_met
from trellis.db import Database
from trellis.errors import NotFound
from trellis.metadata.compiled import MetadataCache
from trellis.records.rules import RuleContext
from trellis.records.tables import automation_runs, events
from trellis.rule_engine import FormulaError
from trellis.tables import tenants

log = logging.getLogger(__name__)
BATCH = 200
STALE_SECONDS = 30


def dispatch_pending(database: Database, cache: MetadataCache, *,
                     max_depth: int) -> list[tuple[uuid.UUID, int]]:
    """Dispatch every tenant's pending events; return the (tenant, run id) to execute."""
    with database.platform() as connection:
        tenant_rows = connection.execute(sa.select(tenants.c.id, tenants.c.slug)).all()
    queued: list[tuple[uuid.UUID, int]] = []
    for tenant_id, slug in tenant_rows:
        try:
            while True:
                with database.tenant(tenant_id) as connection:
                    batch = _dispatch_batch(connection, cache, tenant_id, slug, max_depth)
                queued += [(tenant_id, run_id) for run_id in batch[1]]
                if batch[0] < BATCH:
                    break
        except Exception:  # noqa: BLE001 - one tenant's broken metadata must not stop others
            log.exception("event dispatch failed", extra={"tenant_id": str(tenant_id)})
    return queued


def _dispatch_batch(connection: Any, cache: MetadataCache, tenant_id: uuid.UUID, slug: str,
                    max_depth: int) -> tuple[int, list[int]]:
    pending = connection.execute(
        sa.select(events).where(events.c.tenant_id == tenant_id,
                                events.c.dispatched_at.is_(None))
        .order_by(events.c.id).limit(BATCH).with_for_update(skip_locked=True)).all()
    if not pending:
        return 0, []
    schema = cache.get(connection, tenant_id)
    context = RuleContext(connection, system_actor(tenant_id, slug), schema)
    run_ids: list[int] = []
    for event in pending:
        try:
            obj = schema.by_id(event.object_id)
        except NotFound:
            continue       # the object was deleted since; nothing to run
        for automation in automations_for(obj, event.type, "after_save"):
            status, error = _judge(context, obj, automation, event.payload, max_depth)
            if status is None:
                continue
            run_id = connection.execute(
                pg_insert(automation_runs).values(
                    tenant_id=tenant_id, event_id=event.id, automation=automation["api_name"],
                    object_id=obj.id, record_id=event.record_id,
                    trigger=event.type.removeprefix("record."), status=status, error=error)
                .on_conflict_do_nothing(constraint="uq_automation_runs_key")
                .returning(automation_runs.c.id)).scalar()
            if run_id is not None and status == "queued":
                run_ids.append(run_id)
    connection.execute(events.update().where(events.c.id.in_([e.id for e in pending]))
                       .values(dispatched_at=sa.func.now()))
    return len(pending), run_ids


def _judge(context: RuleContext, obj: Any, automation: dict[str, Any],
           payload: dict[str, Any], max_depth: int) -> tuple[str | None, str | None]:
    """``queued``, ``skipped`` with the reason, or None when the condition is not met."""
    chain = payload.get("chain") or {}
    if chain.get("depth", 0) >= max_depth:
        return "skipped", (f"Stopped: automation chain reached depth {max_depth} "
                           f"({' → '.join(step[0] for step in chain.get('seen', []))}).")
    if [automation["api_name"], payload["record_id"]] in chain.get("seen", []):
        return "skipped", "Stopped: this automation already ran on this record in this chain."
    record = payload.get("record") or payload.get("prior") or {}
    prior = payload.get("prior") if payload.get("record") is not None else None
    system = {"id": uuid.UUID(payload["record_id"])}
    try:
        met = condition_met(context, obj, automation, context.view(obj, record, system),
                            None if prior is None else context.view(obj, prior, system))
    except FormulaError as error:
        return "skipped", f"The condition could not be evaluated: {error}"
    return ("queued", None) if met else (None, None)


def stale_runs(database: Database) -> list[tuple[uuid.UUID, int]]:
    """Queued runs whose hand-off to a worker seems lost (Redis was down, say)."""
    found: list[tuple[uuid.UUID, int]] = []
    with database.platform() as connection:
        tenant_ids = connection.execute(sa.select(tenants.c.id)).scalars().all()
    for tenant_id in tenant_ids:
        with database.tenant(tenant_id) as connection:
            found += [(tenant_id, run_id) for run_id in connection.execute(
                sa.select(automation_runs.c.id).where(
                    automation_runs.c.status == "queued",
                    automation_runs.c.created_at <
                    sa.func.now() - sa.text(f"interval '{STALE_SECONDS} seconds'"))).scalars()]
    return found
