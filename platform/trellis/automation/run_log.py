"""The automation run log: the runs that touched one record, the log filtered, one run,
and replaying a failed run. The run-log API and the Setup screens both call these."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.automation.tables import automation_runs
from trellis.errors import Conflict, NotFound


def record_runs(
    connection: Connection, object_id: uuid.UUID, record_id: uuid.UUID, limit: int
) -> list[Row]:
    """The newest ``limit`` runs on a record (served by ix_automation_runs_record)."""
    return list(
        connection.execute(
            sa.select(automation_runs)
            .where(
                automation_runs.c.record_id == record_id,
                automation_runs.c.object_id == object_id,
            )
            .order_by(automation_runs.c.id.desc())
            .limit(limit)
        )
    )


STATUSES = ("queued", "running", "waiting", "succeeded", "failed", "dead", "skipped")
# Bounds on when runs were created or continue: name -> the condition over a moment.
MOMENT_FILTERS = {
    "resume_at__lte": lambda at: automation_runs.c.resume_at <= at,
    "resume_at__gte": lambda at: automation_runs.c.resume_at >= at,
    "created_at__lte": lambda at: automation_runs.c.created_at <= at,
    "created_at__gte": lambda at: automation_runs.c.created_at >= at,
}
REPLAYABLE = frozenset({"dead", "failed"})


def find_runs(
    connection: Connection,
    actor: Actor,
    *,
    equal: Mapping[str, object],
    moments: Mapping[str, dt.datetime],
    before_id: int | None,
    limit: int,
) -> tuple[list[Row], bool]:
    """The run log, newest first: runs whose columns equal ``equal`` (status, automation,
    record_id, trigger), within ``moments`` (:data:`MOMENT_FILTERS`), older than
    ``before_id``; at most ``limit``, and whether there are more."""
    # The run log quotes records and errors of every object: it is for those who manage
    # automations, as replays are.
    actor.require_right("manage_automations")
    query = sa.select(automation_runs).order_by(automation_runs.c.id.desc())
    for column, value in equal.items():
        query = query.where(automation_runs.c[column] == value)
    for name, moment in moments.items():
        query = query.where(MOMENT_FILTERS[name](moment))
    if before_id is not None:
        query = query.where(automation_runs.c.id < before_id)
    rows = list(connection.execute(query.limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def get_run(connection: Connection, actor: Actor, run_id: int, *, lock: bool = False) -> Row:
    actor.require_right("manage_automations")
    query = sa.select(automation_runs).where(automation_runs.c.id == run_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"No automation run {run_id}.")
    return row


def replay_run(connection: Connection, actor: Actor, run_id: int) -> None:
    """Queue a dead or failed run again (actions already done are not repeated), and
    audit it; the caller nudges a worker once this commits."""
    row = get_run(connection, actor, run_id, lock=True)
    if row.status not in REPLAYABLE:
        raise Conflict(f"Only failed or dead runs can be replayed; this one is {row.status}.")
    connection.execute(
        automation_runs.update()
        .where(automation_runs.c.id == run_id)
        .values(status="queued", attempts=0, error=None, queued_at=sa.func.now())
    )
    record_audit(
        connection,
        actor,
        "automation_run.replayed",
        target_type="automation_run",
        target_id=str(run_id),
        details={"automation": row.automation, "status": row.status},
    )


def last_statuses(connection: Connection) -> dict[str, Row]:
    """Each automation's newest run (its status and when), by automation name."""
    newest = sa.select(sa.func.max(automation_runs.c.id)).group_by(automation_runs.c.automation)
    query = sa.select(
        automation_runs.c.automation, automation_runs.c.status, automation_runs.c.id
    ).where(automation_runs.c.id.in_(newest))
    return {row.automation: row for row in connection.execute(query)}
