"""``GET /api/v1/audit``: the tenant's audit trail for administrators, newest first, as
JSON pages or (``?format=csv``) one CSV download, which is itself recorded."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.access.audit import event_json, events_csv, list_events, record_audit
from trellis.api.context import tenant_transaction
from trellis.errors import BadRequest
from trellis.identity.auth import require_actor
from trellis.records.parameters import whole_number

MAX_LIMIT = 500
# A CSV export is one response: bounded, like every page, but generously.
MAX_EXPORT = 100_000


def _moment(name: str) -> dt.datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None:
        raise BadRequest(
            f"{name} must be an ISO 8601 timestamp.", fields={name: "e.g. 2026-12-03T12:00:00Z"}
        )
    # A moment without an offset is read as UTC, not as the server's local time.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _filters() -> dict[str, Any]:
    actor_id = None
    if request.args.get("actor") is not None:
        try:
            actor_id = uuid.UUID(request.args["actor"])
        except ValueError:
            raise BadRequest(
                "actor must be a user id.", fields={"actor": "A user's UUID."}
            ) from None
    return {
        "action": request.args.get("action"),
        "actor_id": actor_id,
        "target_type": request.args.get("target_type"),
        "since": _moment("since"),
        "until": _moment("until"),
    }


def list_audit() -> ResponseReturnValue:
    require_actor().require_right("view_audit")
    output = request.args.get("format", "json")
    if output not in {"json", "csv"}:
        raise BadRequest("format must be json or csv.", fields={"format": "json or csv"})
    filters = _filters()
    if output == "csv":
        return _export(filters)
    limit = whole_number(request.args.get("limit", "50"), "limit", 1, MAX_LIMIT)
    cursor = request.args.get("cursor")
    before_id = whole_number(cursor, "cursor") if cursor is not None else None
    with tenant_transaction() as (connection, _):
        rows = list_events(connection, **filters, before_id=before_id, limit=limit + 1)
    page = rows[:limit]
    return jsonify(
        {
            "data": [event_json(row) for row in page],
            "next_cursor": str(page[-1].id) if len(rows) > limit else None,
        }
    )


def _export(filters: dict[str, Any]) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        rows = list_events(connection, **filters, limit=MAX_EXPORT)
        record_audit(
            connection,
            actor,
            "audit.exported",
            target_type="audit_events",
            details={
                "rows": len(rows),
                **{k: str(v) for k, v in filters.items() if v is not None},
            },
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    return Response(
        events_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/audit", view_func=list_audit, methods=["GET"])
