"""The OpenAPI description of ``GET /audit`` (:mod:`trellis.api.audit`)."""

from __future__ import annotations

from typing import Any

from trellis.access.audit import ACTIONS
from trellis.api.audit import MAX_LIMIT
from trellis.api.openapi_schema import (
    INTEGER,
    MOMENT,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    TEXT,
    array,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.identity.mfa import AUDIT_ACTIONS as MFA_ACTIONS

AUDIT_TAG = "Audit"


def openapi_schemas() -> dict[str, Any]:
    """``AuditEvent``: one entry of the trail."""
    event = {
        "id": INTEGER,
        "at": MOMENT,
        "action": {
            "type": "string",
            "description": f"One of {', '.join((*ACTIONS, *MFA_ACTIONS))}, or newer.",
        },
        "actor_id": OPTIONAL_UUID,
        "actor_email": OPTIONAL_TEXT,
        "target_type": OPTIONAL_TEXT,
        "target_id": OPTIONAL_TEXT,
        "address": OPTIONAL_TEXT,
        "user_agent": OPTIONAL_TEXT,
        "details": {"type": "object"},
    }
    return {"AuditEvent": shape(event, event)}


def openapi_paths() -> dict[str, dict[str, Any]]:
    """``/audit``: the trail, filtered and paged, or exported as CSV."""
    moment = {"type": "string", "format": "date-time"}
    parameters = [
        parameter("action", "query", TEXT, "Events of one action, e.g. `login.failed`."),
        parameter("actor", "query", {"type": "string", "format": "uuid"}, "Events of one user."),
        parameter("target_type", "query", TEXT, "Events about one kind of target, e.g. `user`."),
        parameter("since", "query", moment, "Events at or after this moment."),
        parameter("until", "query", moment, "Events before this moment."),
        parameter(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
            "Events per page.",
        ),
        parameter("cursor", "query", TEXT, "The previous page's `next_cursor`."),
        parameter(
            "format", "query", {"enum": ["json", "csv"], "default": "json"}, "`csv`: one download."
        ),
    ]
    page = shape(
        {"data": array(ref("AuditEvent")), "next_cursor": OPTIONAL_TEXT}, ["data", "next_cursor"]
    )
    found = operation(
        "listAuditEvents",
        "The audit trail, newest first (administrators)",
        AUDIT_TAG,
        200,
        page,
        errors=(400, 403),
        parameters=parameters,
    )
    found["responses"]["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
    return {"/audit": {"get": found}}
