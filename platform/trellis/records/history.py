"""A record's history as its reader may see it: the field-level changes of every create,
update, delete and restore, newest first, in pages, for the API and the record page; and,
for a form, where the record stood when it was opened and what has changed since, so a save
made against an older version can say what someone else changed.

History holds old values too, so the fields field-level security hides from the reader
are left out of every change, as they are left out of the record. Every write of a record
logs one history row in its own transaction, after locking the record, so the rows of one
record are numbered in the order their writes happened: the rows after the newest one a
reader saw are exactly the writes made since.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.records.reads import parse_record_id
from trellis.records.service import RecordService
from trellis.records.tables import record_history

PAGE_SIZE = 50
# A form lists at most this many later writes.
MAX_LATER_WRITES = 100


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    id: int
    action: str
    #: Field name to ``[old, new]``, the reader's readable fields only.
    changes: dict[str, list[Any]]
    actor_id: uuid.UUID | None
    created_at: dt.datetime


def history_page(
    service: RecordService, record_id: Any, before: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[HistoryEntry], int | None]:
    """The newest ``limit`` entries (older than entry ``before``) of a record the reader
    may read (in the recycle bin too), and the cursor of the next page, if any."""
    current = service.get(record_id, include_deleted=True)
    query = sa.select(record_history).where(
        record_history.c.record_id == parse_record_id(current["id"])
    )
    if before is not None:
        query = query.where(record_history.c.id < before)
    rows = service.connection.execute(
        query.order_by(record_history.c.id.desc()).limit(limit + 1)
    ).all()
    hidden = service.access.unreadable_fields(service.obj)
    page = [
        HistoryEntry(
            row.id,
            row.action,
            {name: change for name, change in row.changes.items() if name not in hidden},
            row.actor_id,
            row.created_at,
        )
        for row in rows[:limit]
    ]
    return page, (page[-1].id if len(rows) > limit else None)


def latest_change(connection: Connection, tenant_id: uuid.UUID, record_id: uuid.UUID) -> int:
    """The number of the record's newest history row (0 when it has none)."""
    newest = connection.execute(
        sa.select(sa.func.max(record_history.c.id)).where(
            record_history.c.tenant_id == tenant_id, record_history.c.record_id == record_id
        )
    ).scalar()
    return int(newest or 0)


def changes_after(
    connection: Connection, tenant_id: uuid.UUID, record_id: uuid.UUID, after: int
) -> list[Row[Any]]:
    """The record's history rows after row ``after``, oldest first: ``id``, ``action``,
    ``changes`` (field: [old, new]), ``actor_id`` and ``created_at``."""
    return list(
        connection.execute(
            sa.select(
                record_history.c.id,
                record_history.c.action,
                record_history.c.changes,
                record_history.c.actor_id,
                record_history.c.created_at,
            )
            .where(
                record_history.c.tenant_id == tenant_id,
                record_history.c.record_id == record_id,
                record_history.c.id > after,
            )
            .order_by(record_history.c.id)
            .limit(MAX_LATER_WRITES)
        )
    )
