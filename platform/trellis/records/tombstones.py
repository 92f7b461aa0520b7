"""Deleted-record tombstones for incremental sync: the ids and deletion times of an
object's records in the recycle bin, oldest deletion first, keyset paged on
``(deleted_at, id)``, limited to the records the actor may read.

Records are only ever soft-deleted (a purge of whole records does not exist), so every
deletion since a client's last sync is here until the record is restored; a restore
moves the record's ``updated_at`` on, so the client sees it again among the changes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.db import index_friendly_reads
from trellis.errors import BadRequest
from trellis.metadata.compiled import ObjectSchema
from trellis.records.cursors import decode_cursor, encode_cursor
from trellis.records.parameters import whole_number
from trellis.records.query import DEFAULT_LIMIT, MAX_LIMIT, written_out
from trellis.records.tables import records

CURSOR_ORDER = "deleted_at,id"


def _since(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        since = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(
            "since must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z.",
            fields={"since": "An ISO 8601 date and time."},
        ) from None
    return since if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)


def _after(raw: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    if raw is None:
        return None
    deleted_at, record_id = decode_cursor(raw, CURSOR_ORDER, 2)
    try:
        return dt.datetime.fromisoformat(deleted_at), uuid.UUID(record_id)
    except (TypeError, ValueError):
        raise BadRequest(
            "The cursor is invalid.", code="invalid_cursor", fields={"cursor": "Invalid cursor."}
        ) from None


def tombstone_page(
    connection: Connection, access: Access, obj: ObjectSchema, args: Mapping[str, str]
) -> str:
    """The response body (JSON text) of one page of ``obj``'s tombstones: those deleted
    after ``since`` (if given) and after the ``cursor``'s row (if given)."""
    access.rights.require(obj.api_name, "read")
    since, after = _since(args.get("since")), _after(args.get("cursor"))
    limit = whole_number(args.get("limit", str(DEFAULT_LIMIT)), "limit", 1, MAX_LIMIT)
    readable = access.predicate(obj, "read")
    query = (
        sa.select(records.c.id, records.c.deleted_at)
        .where(
            records.c.tenant_id == written_out(access.actor.tenant_id),
            records.c.object_id == written_out(obj.id),
            records.c.deleted_at.is_not(None),
            *([] if since is None else [records.c.deleted_at > since]),
            *(
                []
                if after is None
                else [sa.tuple_(records.c.deleted_at, records.c.id) > sa.tuple_(*after)]
            ),
            *([] if readable is None else [readable]),
        )
        .order_by(records.c.deleted_at, records.c.id)
        .limit(limit + 1)
    )
    with index_friendly_reads(connection):  # the query carries its tenant predicate
        rows = connection.execute(query, access.parameters).fetchall()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(
            CURSOR_ORDER, [rows[-1].deleted_at.isoformat(), str(rows[-1].id)]
        )
    data = [{"id": str(row.id), "deleted_at": row.deleted_at.isoformat()} for row in rows]
    return json.dumps({"data": data, "next_cursor": next_cursor})
