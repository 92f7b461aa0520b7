"""``/api/v1/automation-runs``: the run log, with filters, and replay of failed runs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.api.context import nudge_worker, tenant_transaction
from trellis.automation import run_log
from trellis.automation.run_log import MOMENT_FILTERS, STATUSES, find_runs
from trellis.errors import BadRequest
from trellis.records.parameters import whole_number

# Filters on when runs were created or waiting runs continue:
# ?resume_at__lte=2026-12-01T00:00:00Z, ?created_at__gte=2026-11-01
__all__ = ["MOMENT_FILTERS", "STATUSES", "register", "run_json"]


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
    equal: dict[str, object] = {}
    status = request.args.get("status")
    if status is not None:
        if status not in STATUSES:
            raise BadRequest("Unknown status.", fields={"status": f"One of {', '.join(STATUSES)}."})
        equal["status"] = status
    for name in ("automation", "trigger"):
        if request.args.get(name):
            equal[name] = request.args[name]
    if request.args.get("record_id"):
        try:
            equal["record_id"] = uuid.UUID(request.args["record_id"])
        except ValueError:
            raise BadRequest(
                "record_id is a record id.", fields={"record_id": "Invalid."}
            ) from None
    moments = {
        name: _moment(name, request.args[name])
        for name in MOMENT_FILTERS
        if request.args.get(name) is not None
    }
    cursor = request.args.get("cursor")
    limit = whole_number(request.args.get("limit", "50"), "limit", 1, 200)
    with tenant_transaction() as (connection, actor):
        page, more = find_runs(
            connection,
            actor,
            equal=equal,
            moments=moments,
            before_id=whole_number(cursor, "cursor") if cursor is not None else None,
            limit=limit,
        )
    return jsonify(
        {
            "data": [run_json(row) for row in page],
            "next_cursor": str(page[-1].id) if more else None,
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
        row = run_log.get_run(connection, actor, run_id)
    return jsonify(run_json(row))


def replay_run(run_id: int) -> ResponseReturnValue:
    """Queue a dead or failed run again; actions already done are not repeated."""
    with tenant_transaction() as (connection, actor):
        run_log.replay_run(connection, actor, run_id)
    # A queued run whose hand-off is lost is re-sent by the outbox sweep.
    nudge_worker("trellis.run_automation", str(actor.tenant_id), run_id)
    return jsonify({"id": run_id, "status": "queued"}), 202


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/automation-runs", view_func=list_runs, methods=["GET"])
    blueprint.add_url_rule("/automation-runs/<row_id:run_id>", view_func=get_run, methods=["GET"])
    blueprint.add_url_rule(
        "/automation-runs/<row_id:run_id>/replay", view_func=replay_run, methods=["POST"]
    )
