"""The ``wait`` action: a run pauses, then continues with its remaining actions.

Reaching a wait records it as done (its execution key) and parks the run as
``waiting`` with ``resume_at`` in the same transaction; nothing lives only in a
worker's memory, so a restart loses nothing. The beat task (:func:`resume_due`) queues
the runs whose time has come, and execution continues after the last action done. A
wait with ``recheck_condition`` judges the automation's condition (or a scheduled
automation's filter) again on the record as it is then, and ends the run ``skipped``
with the reason when it no longer holds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from trellis.automation.schedule import time_zone
from trellis.automation.tables import automation_runs
from trellis.db import Database
from trellis.identity.tables import tenants
from trellis.metadata.compiled import ObjectSchema
from trellis.records.rules import RecordView, RuleContext


class RunSkipped(Exception):
    """The run ends ``skipped``; the message says why."""


def interval(spec: dict[str, int]) -> dt.timedelta:
    return dt.timedelta(
        days=spec.get("days", 0), hours=spec.get("hours", 0), minutes=spec.get("minutes", 0)
    )


def resume_time(
    action: dict[str, Any], view: RecordView, timezone: str | None, now: dt.datetime
) -> dt.datetime:
    """When the run may continue: after the duration, or at the date field plus the offset
    (a date is read as midnight in the automation's time zone)."""
    if "duration" in action:
        return now + interval(action["duration"])
    field = view.obj.find(action["until"])  # checked when saved; names are case-blind
    value = view.get(field.api_name) if field is not None else None
    if field is None or value is None:
        name = field.api_name if field is not None else action["until"]
        raise RunSkipped(f"{name} is blank, so there is no time to wait until.")
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=time_zone(timezone))
    try:
        return value + interval(action.get("offset", {}))
    except OverflowError:
        raise RunSkipped(f"{field.api_name} plus the offset is beyond the calendar.") from None


def still_holds(
    context: RuleContext, obj: ObjectSchema, automation: dict[str, Any], view: RecordView
) -> bool:
    """The automation's selection judged again on the record as it is now."""
    for key in ("filter", "condition"):
        if (
            automation.get(key)
            and context.evaluate(obj, automation[key], view, expected_type="checkbox") is not True
        ):
            return False
    return True


def check_before_continuing(
    context: RuleContext, obj: ObjectSchema, automation: dict[str, Any], view: RecordView | None
) -> None:
    """Raise :class:`RunSkipped` when a rechecking wait finds the record gone or its
    condition no longer met."""
    if view is None:
        raise RunSkipped("The record was deleted while the run waited.")
    if not still_holds(context, obj, automation, view):
        raise RunSkipped("The condition no longer held when the wait ended.")


def resume_due(database: Database) -> list[tuple[uuid.UUID, int]]:
    """Queue every waiting run whose time has come; return the (tenant, run id) to execute.

    The update is its own claim: a second beat finds the rows no longer ``waiting``.
    Attempts start again at zero, since they count the failures of one stretch of work.
    """
    runs = automation_runs.c
    with database.platform() as connection:
        tenant_ids = connection.execute(sa.select(tenants.c.id)).scalars().all()
    found: list[tuple[uuid.UUID, int]] = []
    for tenant_id in tenant_ids:
        with database.tenant(tenant_id) as connection:
            found += [
                (tenant_id, run_id)
                for run_id in connection.execute(
                    automation_runs.update()
                    .where(runs.status == "waiting", runs.resume_at <= sa.func.now())
                    .values(status="queued", attempts=0, queued_at=sa.func.now())
                    .returning(runs.id)
                ).scalars()
            ]
    return found
