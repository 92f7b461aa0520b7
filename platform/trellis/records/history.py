"""A record's history as a form needs it: where it stood when the form was opened, and
what has changed since, so that a save made against an older version can say what
someone else changed (and keep their change where the user left a field alone).

Every write of a record logs one history row in its own transaction, after locking the
record, so the rows of one record are numbered in the order their writes happened: the
rows after the newest one a reader saw are exactly the writes made since. Callers have
read the record through the access gate, and leave out the fields field-level security
hides from the reader.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.records.tables import record_history

# A form lists at most this many later writes.
MAX_LATER_WRITES = 100


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
