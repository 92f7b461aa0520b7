"""A record's history as its reader may see it: the field-level changes of every create,
update, delete and restore, newest first, in pages, for the API and the record page.

History holds old values too, so the fields field-level security hides from the reader
are left out of every change, as they are left out of the record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from trellis.records.reads import parse_record_id
from trellis.records.service import RecordService
from trellis.records.tables import record_history

PAGE_SIZE = 50


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
