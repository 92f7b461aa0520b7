"""Automation runs from record events: the automation engine as an outbox consumer.

For every event the dispatcher claims, each after-save automation of the event's object
whose condition the event's snapshot meets (``$User`` being the user who made the
change) gets one ``automation_runs`` row per
event × automation (unique, so a re-dispatch cannot double a run), written in the
dispatch transaction. Runs are then handed to ``trellis.run_automation``; a run whose
hand-off was lost stays ``queued``, and one whose worker died stays ``running``:
:meth:`AutomationRuns.stale` hands both off again.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from trellis.automation.leases import lease_held
from trellis.automation.tables import automation_runs
from trellis.automation.triggers import automations_for
from trellis.db import Database
from trellis.identity.tables import tenants
from trellis.identity.users import user_actor
from trellis.metadata.compiled import ObjectSchema
from trellis.outbox.consumers import EventHandler, Work, condition_met, event_views
from trellis.records.rules import RuleContext
from trellis.rule_engine import FormulaError

STALE_SECONDS = 30


@dataclasses.dataclass(frozen=True)
class AutomationRuns:
    """The outbox consumer that queues after-save automation runs."""

    max_depth: int
    max_attempts: int
    task: str = "trellis.run_automation"

    def start_batch(self, connection: Any, context: RuleContext) -> EventHandler:
        contexts: dict[uuid.UUID, RuleContext] = {}

        def queue_runs(obj: ObjectSchema, event: Any) -> list[int]:
            run_ids: list[int] = []
            for automation in automations_for(obj, event.type, "after_save"):
                judging = _changed_by(context, contexts, event.actor_id)
                status, error = _judge(judging, obj, automation, event.payload, self.max_depth)
                if status is None:
                    continue
                run_id = connection.execute(
                    pg_insert(automation_runs)
                    .values(
                        tenant_id=context.actor.tenant_id,
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
            return run_ids

        return queue_runs

    def stale(self, database: Database) -> Work:
        return stale_runs(database, max_attempts=self.max_attempts)


def _changed_by(
    context: RuleContext, contexts: dict[uuid.UUID, RuleContext], user_id: uuid.UUID | None
) -> RuleContext:
    """The batch's context as the user who made a change (their $User), as a before-save
    condition sees it; the platform's for a change of its own or of a user since gone."""
    if user_id is None:
        return context
    if user_id not in contexts:
        actor = user_actor(
            context.connection, user_id, context.actor.tenant_slug, context.schema.access
        )
        contexts[user_id] = (
            context if actor is None else RuleContext(context.connection, actor, context.schema)
        )
    return contexts[user_id]


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
