"""Executing one automation run: its actions in order, each exactly once.

Each action is done by its registered type (:mod:`trellis.automation.actions`).

Each action has an execution key (run × action index) recorded in the run's
``actions_done``. Record actions commit together with their key, so a retry after
a crash never repeats them; a webhook is delivered before its key is recorded, so
at worst it is delivered again, with the same ``X-Trellis-Delivery`` id for the
receiver to recognise. Failures are retried with capped exponential backoff by
the Celery task; after the last attempt the run is ``dead`` until replayed. A ``wait``
step parks the run as ``waiting`` (see :mod:`trellis.automation.waits`); it goes on
after the last action done when the beat resumes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from typing import Any

import sqlalchemy as sa

from trellis.actor import Actor
from trellis.automation.actions import ActionFailed, ActionStep
from trellis.automation.run_as import RunAs, run_as
from trellis.automation.tables import automation_runs
from trellis.automation.waits import RunSkipped, check_before_continuing, resume_time
from trellis.config import Config
from trellis.db import Database
from trellis.errors import NotFound, TrellisError
from trellis.identity.tables import tenants
from trellis.identity.users import user_actor
from trellis.metadata.compiled import MetadataCache, ObjectSchema, TenantSchema
from trellis.records.rules import RecordView, RuleContext
from trellis.records.tables import events, records
from trellis.rule_engine import FormulaError

FINAL = frozenset({"succeeded", "dead", "skipped"})
__all__ = ["ActionFailed", "execute_run"]


def execute_run(
    database: Database, cache: MetadataCache, config: Config, tenant_id: uuid.UUID, run_id: int
) -> str:
    """Run the remaining actions of a run; return its status afterwards."""
    with database.tenant(tenant_id) as connection:
        run = connection.execute(
            sa.select(automation_runs, tenants.c.slug)
            .join(tenants, tenants.c.id == automation_runs.c.tenant_id)
            .where(automation_runs.c.id == run_id)
            .with_for_update(of=automation_runs)
        ).first()
        if run is None or run.status in FINAL:
            return run.status if run else "missing"
        if run.status == "waiting" and run.resume_at > dt.datetime.now(dt.UTC):
            return "waiting"  # a stray message; the beat resumes it when it is time
        automation, runs_as = _start(connection, cache, tenant_id, run)
    actor = runs_as.actor  # the platform, or the automation's owner
    started = time.perf_counter()
    try:
        if automation is None:
            raise ActionFailed(f"Automation {run.automation} no longer exists.")
        if runs_as.problem:
            raise ActionFailed(runs_as.problem)
        actions = automation["actions"]
        for index, action in enumerate(actions):
            if index in run.actions_done:
                continue
            if (
                index - 1 in run.actions_done
                and actions[index - 1]["type"] == "wait"
                and actions[index - 1].get("recheck_condition")
            ):
                _recheck(database, cache, runs_as.formulas_actor, run, automation)
            if action["type"] == "wait":
                if _wait(database, cache, actor, run, index, action, automation):
                    return "waiting"
                continue
            _perform(database, cache, config, runs_as, run, index, action)
    except RunSkipped as skipped:
        return _finish(
            database,
            tenant_id,
            run_id,
            started,
            config.automation_max_attempts,
            error=str(skipped),
            skipped=True,
        )
    except (ActionFailed, TrellisError, FormulaError) as error:
        return _finish(
            database, tenant_id, run_id, started, config.automation_max_attempts, error=str(error)
        )
    return _finish(database, tenant_id, run_id, started, config.automation_max_attempts)


def _start(
    connection: Any, cache: MetadataCache, tenant_id: uuid.UUID, run: Any
) -> tuple[dict[str, Any] | None, RunAs]:
    """Mark the run running; its automation and whose rights it runs with (recorded on
    the run, for its log)."""
    schema = cache.get(connection, tenant_id)
    automation = _automation(schema, run)
    runs_as = run_as(connection, tenant_id, run.slug, automation, schema.access)
    if run.event_id is not None:
        # The formulas of a run a change triggered read $User as its condition was
        # judged: as the user who made the change (trellis.automation.event_runs).
        triggered_by = connection.execute(
            sa.select(events.c.actor_id).where(events.c.id == run.event_id)
        ).scalar()
        if triggered_by is not None:
            user = user_actor(connection, triggered_by, run.slug, schema.access)
            runs_as = dataclasses.replace(runs_as, user=user)
    table = automation_runs.c
    connection.execute(
        automation_runs.update()
        .where(table.id == run.id)
        .values(
            status="running",
            attempts=table.attempts + 1,
            started_at=sa.func.coalesce(table.started_at, sa.func.now()),
            run_as=runs_as.label,
        )
    )
    return automation, runs_as


def _automation(schema: TenantSchema, run: Any) -> dict[str, Any] | None:
    """The run's automation as defined now (None once its object or it is gone)."""
    try:
        obj = schema.by_id(run.object_id)
    except NotFound:
        return None
    return next(
        (
            automation
            for automation in obj.definition.get("automations", [])
            if automation["api_name"] == run.automation
        ),
        None,
    )


def _perform(
    database: Database,
    cache: MetadataCache,
    config: Config,
    runs_as: RunAs,
    run: Any,
    index: int,
    action: dict[str, Any],
) -> None:
    """Do one action through its registered type (see :mod:`trellis.automation.actions`),
    with the run's rights and its formulas' $User."""
    actor = runs_as.actor
    with database.tenant(actor.tenant_id) as connection:
        schema = cache.get(connection, actor.tenant_id)
        action_type = schema.actions.get(action["type"]) if schema.actions else None
        if action_type is None:
            raise ActionFailed(
                f"The action type {action['type']!r} is not installed (was its plugin removed?)."
            )
        obj = schema.by_id(run.object_id)
        context = RuleContext(connection, runs_as.formulas_actor, schema)
        view, chain = _trigger_record(connection, context, obj, run)
        after_commit = action_type.perform(
            ActionStep(
                connection=connection,
                schema=schema,
                actor=actor,
                config=config,
                obj=obj,
                context=context,
                record=view,
                chain=chain,
                run=run,
                delivery_id=f"{run.id}:{index}",
            ),
            action,
        )
        if after_commit is None:
            _mark_done(connection, run.id, index)
            return
    # Outside the transaction: a slow server must not hold a database connection.
    after_commit()
    with database.tenant(actor.tenant_id) as connection:
        _mark_done(connection, run.id, index)


def _wait(
    database: Database,
    cache: MetadataCache,
    actor: Actor,
    run: Any,
    index: int,
    action: dict[str, Any],
    automation: dict[str, Any],
) -> bool:
    """Reach a wait: record it done and park the run until its time, in one transaction.
    False when that time has already come (the run goes on at once)."""
    with database.tenant(actor.tenant_id) as connection:
        schema = cache.get(connection, actor.tenant_id)
        view, _ = _trigger_record(
            connection, RuleContext(connection, actor, schema), schema.by_id(run.object_id), run
        )
        now = connection.execute(sa.select(sa.func.now())).scalar_one()
        resume_at = resume_time(action, view, automation.get("timezone"), now)
        _mark_done(connection, run.id, index)
        if resume_at <= now:
            return False
        connection.execute(
            automation_runs.update()
            .where(automation_runs.c.id == run.id)
            .values(status="waiting", resume_at=resume_at, error=None)
        )
    return True


def _recheck(
    database: Database, cache: MetadataCache, actor: Actor, run: Any, automation: dict[str, Any]
) -> None:
    """After a rechecking wait: go on only if the record still meets the condition."""
    with database.tenant(actor.tenant_id) as connection:
        context, obj, view = _current_record(connection, cache, actor, run)
        check_before_continuing(context, obj, automation, view)


def _current_record(
    connection: Any, cache: MetadataCache, actor: Actor, run: Any
) -> tuple[RuleContext, ObjectSchema, RecordView | None]:
    """The run's record as it is now; None once deleted."""
    schema = cache.get(connection, actor.tenant_id)
    obj = schema.by_id(run.object_id)
    context = RuleContext(connection, actor, schema)
    row = _live_row(connection, run)
    system = {"id": run.record_id, "owner_id": None if row is None else row.owner_id}
    return context, obj, None if row is None else context.view(obj, row.data, system)


def _live_row(connection: Any, run: Any) -> Any:
    return connection.execute(
        sa.select(records.c.data, records.c.owner_id).where(
            records.c.id == run.record_id, records.c.deleted_at.is_(None)
        )
    ).first()


def _trigger_record(
    connection: Any, context: RuleContext, obj: ObjectSchema, run: Any
) -> tuple[RecordView, dict[str, Any]]:
    """The triggering record as it is now (or as the event saw it, once deleted), and the
    automation chain its writes continue."""
    # Scheduled and manual runs have no event: their record must still exist.
    event = (
        {}
        if run.event_id is None
        else connection.execute(
            sa.select(events.c.payload).where(events.c.id == run.event_id)
        ).scalar_one()
    )
    row = _live_row(connection, run)
    if row is None and run.event_id is None:
        raise RunSkipped("The record was deleted.")
    data = row.data if row is not None else (event.get("record") or event.get("prior") or {})
    system = {"id": run.record_id, "owner_id": row.owner_id if row is not None else None}
    previous = event.get("chain") or {}
    chain = {
        "depth": previous.get("depth", 0) + 1,
        "seen": [*previous.get("seen", []), [run.automation, str(run.record_id)]],
    }
    return context.view(obj, data, system), chain


def _mark_done(connection: Any, run_id: int, index: int) -> None:
    connection.execute(
        automation_runs.update()
        .where(automation_runs.c.id == run_id)
        .values(actions_done=automation_runs.c.actions_done.op("||")(sa.func.to_jsonb(index)))
    )


def _finish(
    database: Database,
    tenant_id: uuid.UUID,
    run_id: int,
    started: float,
    max_attempts: int,
    *,
    error: str | None = None,
    skipped: bool = False,
) -> str:
    with database.tenant(tenant_id) as connection:
        attempts = connection.execute(
            sa.select(automation_runs.c.attempts).where(automation_runs.c.id == run_id)
        ).scalar_one()
        status = (
            "skipped"
            if skipped
            else "succeeded"
            if error is None
            else ("dead" if attempts >= max_attempts else "failed")
        )
        connection.execute(
            automation_runs.update()
            .where(automation_runs.c.id == run_id)
            .values(
                status=status,
                error=error,
                finished_at=sa.func.now(),
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
        )
    return status
