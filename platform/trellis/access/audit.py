"""The audit trail: security-relevant events, written in the transaction of the change
they record (a change rolled back leaves no event) and never changed afterwards (the
application role may not UPDATE or DELETE them; see migration 0007).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.access.tables import audit_events
from trellis.actor import Actor

ACTIONS = (
    "login.succeeded",
    "login.failed",
    "token.created",
    "token.revoked",
    "token.rate_limit_changed",
    "tenant.api_settings_changed",
    "user.invited",
    "user.link_used",
    "user.deactivated",
    "user.reactivated",
    "user.password_reset",
    "metadata.changed",
    "metadata.exported",
    "audit.exported",
    "user.access_changed",
    "group.saved",
    "group.deleted",
    "record.shared",
    "record.unshared",
    "records.bulk_deleted",
    "records.exported",
    "automation_run.replayed",
    "privacy.exported",
    "privacy.erased",
    "webhook.created",
    "webhook.changed",
    "webhook.deleted",
    "webhook.replayed",
)
CSV_COLUMNS = (
    "id",
    "at",
    "action",
    "actor_id",
    "actor_email",
    "target_type",
    "target_id",
    "address",
    "user_agent",
    "details",
)
MAX_USER_AGENT = 500


def record_audit(
    connection: Connection,
    actor: Actor,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | uuid.UUID | None = None,
    details: Mapping[str, Any] | None = None,
    address: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Record that ``actor`` did ``action`` in the caller's transaction.

    ``connection`` is in the actor's tenant. An address that is not an IP address (a
    proxy's odd header) is left out rather than failing the change it belongs to."""
    connection.execute(
        audit_events.insert().values(
            tenant_id=actor.tenant_id,
            actor_id=actor.user_id,
            actor_email=actor.email,
            action=action,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            address=_ip_address(address),
            user_agent=user_agent[:MAX_USER_AGENT] if user_agent else None,
            details=dict(details or {}),
        )
    )


def _ip_address(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def list_events(
    connection: Connection,
    *,
    action: str | None = None,
    actor_id: uuid.UUID | None = None,
    target_type: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int | None = None,
) -> list[Row[Any]]:
    """The current tenant's events, newest first, narrowed by the filters; ``before_id``
    is the keyset cursor (the last id of the previous page)."""
    query = sa.select(audit_events).order_by(audit_events.c.id.desc())
    conditions: list[sa.ColumnElement[bool]] = []
    if action is not None:
        conditions.append(audit_events.c.action == action)
    if actor_id is not None:
        conditions.append(audit_events.c.actor_id == actor_id)
    if target_type is not None:
        conditions.append(audit_events.c.target_type == target_type)
    if since is not None:
        conditions.append(audit_events.c.at >= since)
    if until is not None:
        conditions.append(audit_events.c.at < until)
    if before_id is not None:
        conditions.append(audit_events.c.id < before_id)
    if conditions:
        query = query.where(*conditions)
    if limit is not None:
        query = query.limit(limit)
    return list(connection.execute(query))


def event_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "action": row.action,
        "actor_id": str(row.actor_id) if row.actor_id else None,
        "actor_email": row.actor_email,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "address": str(row.address) if row.address is not None else None,
        "user_agent": row.user_agent,
        "details": row.details,
    }


def events_csv(rows: Iterable[Row[Any]]) -> str:
    """The events as CSV, one per line, ``details`` as JSON text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        shown = event_json(row)
        shown["details"] = json.dumps(shown["details"], sort_keys=True)
        writer.writerow([_cell(shown[column]) for column in CSV_COLUMNS])
    return out.getvalue()


# Spreadsheets run a cell that starts with one of these as a formula; failed sign-ins
# put text anyone types (an email, a user agent) into the export.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never evaluates (OWASP's advice: a
    leading apostrophe)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return value
