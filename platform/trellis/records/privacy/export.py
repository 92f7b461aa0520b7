"""Everything held about a person as one JSON document (the right of access): each
record found, with every stored value, its owner and dates, and its field history."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.metadata.compiled import TenantSchema
from trellis.records.privacy.rights import require_privacy_officer
from trellis.records.privacy.search import Match, find_records
from trellis.records.privacy.subject import SubjectRequest, resolve_person
from trellis.records.tables import record_history

SYSTEM_VALUES = ("owner_id", "created_at", "created_by", "updated_at", "updated_by", "deleted_at")


def export_person(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    request: SubjectRequest,
    *,
    address: str | None = None,
    user_agent: str | None = None,
    via: str | None = None,
) -> dict[str, Any]:
    """The document of the person of ``request``; the export is recorded in the audit
    trail (the subject and how many records, not what they hold)."""
    require_privacy_officer(actor)
    person = resolve_person(connection, actor.tenant_id, schema, request)
    matches = find_records(connection, actor.tenant_id, schema, person)
    history = _history(connection, actor.tenant_id, [match.id for match in matches])
    record_audit(
        connection,
        actor,
        "privacy.exported",
        target_type="record" if person.record_id else None,
        target_id=person.record_id,
        details={
            "subject": person.audit_details(),
            "records": len(matches),
            **({"via": via} if via else {}),
        },
        address=address,
        user_agent=user_agent,
    )
    return {
        "subject": person.describe(),
        "addresses": sorted(person.addresses),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "count": len(matches),
        "records": [_record(match, history.get(match.id, [])) for match in matches],
    }


def _record(match: Match, history: list[dict[str, Any]]) -> dict[str, Any]:
    row = match.row
    return {
        "object": match.obj.api_name,
        "id": str(match.id),
        "matched_by": list(match.reasons),
        "version": row.version,
        **{name: _plain(getattr(row, name)) for name in SYSTEM_VALUES},
        # Every stored value, those of fields deleted since (still held) included.
        "values": match.data,
        "history": history,
    }


def _history(
    connection: Connection, tenant_id: uuid.UUID, record_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each record's history entries, oldest first, in one statement."""
    if not record_ids:
        return {}
    rows = connection.execute(
        sa.select(record_history)
        .where(record_history.c.tenant_id == tenant_id, record_history.c.record_id.in_(record_ids))
        .order_by(record_history.c.record_id, record_history.c.id)
    ).all()
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.record_id, []).append(
            {
                "id": row.id,
                "action": row.action,
                "changes": row.changes,
                "actor_id": _plain(row.actor_id),
                "created_at": _plain(row.created_at),
            }
        )
    return found


def _plain(value: Any) -> Any:
    """A JSON value for an id or a moment."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
