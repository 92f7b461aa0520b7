"""``/api/v1/automation-runs``: the run log, with filters, and replay of failed runs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.api.context import nudge_worker, tenant_transaction
from trellis.automation.tables import automation_runs
from trellis.errors import BadRequest, Conflict, NotFound
from trellis.records.parameters import whole_number

STATUSES = ("queued", "running", "waiting", "succeeded", "failed", "dead", "skipped")
# Filters on when waiting runs continue: ?resume_at__lte=2026-12-01T00:00:00Z
RESUME_FILTERS = {
    "resume_at__lte": lambda at: automation_runs.c.resume_at <= at,
    "resume_at__gte": lambda at: automation_runs.c.resume_at >= at,
}


def run_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "automation": row.automation,
        "record_id": str(row.record_id),
        "event_id": row.event_id,
        "trigger": row.trigger,
        "status": row.status,
        "attempts": row.attempts,
        "actions_done": row.actions_done,
        "error": row.error,
        "created_at": row.created_at.isoformat(),
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "duration_ms": row.duration_ms,
        "resume_at": row.resume_at.isoformat() if row.resume_at else None,
        "run_as": row.run_as,
    }


def list_runs() -> ResponseReturnValue:
    query = sa.select(automation_runs).order_by(automation_runs.c.id.desc())
    status = request.args.get("status")
    if status is not None:
        if status not in STATUSES:
            raise BadRequest("Unknown status.", fields={"status": f"One of {', '.join(STATUSES)}."})
        query = query.where(automation_runs.c.status == status)
    if request.args.get("automation"):
        query = query.where(automation_runs.c.automation == request.args["automation"])
    if request.args.get("record_id"):
        try:
            query = query.where(automation_runs.c.record_id == uuid.UUID(request.args["record_id"]))
        except ValueError:
            raise BadRequest(
                "record_id is a record id.", fields={"record_id": "Invalid."}
            ) from None
    if request.args.get("trigger"):
        query = query.where(automation_runs.c.trigger == request.args["trigger"])
    for name, condition in RESUME_FILTERS.items():
        if request.args.get(name) is not None:
            query = query.where(condition(_moment(name, request.args[name])))
    if request.args.get("cursor") is not None:
        query = query.where(automation_runs.c.id < whole_number(request.args["cursor"], "cursor"))
    limit = whole_number(request.args.get("limit", "50"), "limit", 1, 200)
    with tenant_transaction() as (connection, actor):
        # The run log quotes records and errors of every object: it is for those who
        # manage automations, as replays are.
        actor.require_right("manage_automations")
        rows = connection.execute(query.limit(limit + 1)).all()
    page = rows[:limit]
    return jsonify(
        {
            "data": [run_json(row) for row in page],
            "next_cursor": str(page[-1].id) if len(rows) > limit else None,
        }
    )


def _moment(name: str, raw: str) -> dt.datetime:
    """An ISO 8601 date-time; one without an offset is read as UTC."""
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is an ISO 8601 date-time.", fields={name: "Invalid."}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def get_run(run_id: int) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_automations")
        row = connection.execute(
            sa.select(automation_runs).where(automation_runs.c.id == run_id)
        ).first()
    if row is None:
        raise NotFound(f"No automation run {run_id}.")
    return jsonify(run_json(row))


def replay_run(run_id: int) -> ResponseReturnValue:
    """Queue a dead or failed run again; actions already done are not repeated."""
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_automations")
        row = connection.execute(
            sa.select(automation_runs).where(automation_runs.c.id == run_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"No automation run {run_id}.")
        if row.status not in {"dead", "failed"}:
            raise Conflict(f"Only failed or dead runs can be replayed; this one is {row.status}.")
        connection.execute(
            automation_runs.update()
            .where(automation_runs.c.id == run_id)
            .values(status="queued", attempts=0, error=None, queued_at=sa.func.now())
        )
    # A queued run whose hand-off is lost is re-sent by the outbox sweep.
    nudge_worker("trellis.run_automation", str(actor.tenant_id), run_id)
    return jsonify({"id": run_id, "status": "queued"}), 202


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/automation-runs", view_func=list_runs, methods=["GET"])
    blueprint.add_url_rule("/automation-runs/<row_id:run_id>", view_func=get_run, methods=["GET"])
    blueprint.add_url_rule(
        "/automation-runs/<row_id:run_id>/replay", view_func=replay_run, methods=["POST"]
    )
