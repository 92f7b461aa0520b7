"""Recently viewed records: remembered when a record page shows one, read back for the
app shell and the home page as the user may read them now.

Only screens remember views (an API read is an integration at work, not a person
looking). A user keeps their newest :data:`KEEP` views; a record deleted, or no
longer readable since it was viewed, is left out of what is read back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.names import name_sql
from trellis.records.query import written_out
from trellis.records.tables import recent_records, records

KEEP = 50


@dataclasses.dataclass(frozen=True)
class RecentRecord:
    object: ObjectSchema
    id: uuid.UUID
    # None when the record has no name, or its name field is hidden from the reader.
    name: str | None
    viewed_at: dt.datetime


def remember_view(
    connection: Connection, actor: Actor, obj: ObjectSchema, record_id: uuid.UUID
) -> None:
    """Note that ``actor`` viewed a record of ``obj`` now (one row per user and record;
    a second view moves it to the top), and forget their views beyond the newest KEEP.
    The caller has read the record through the gate, so it exists and is readable."""
    if actor.user_id is None:  # the platform acting as itself views nothing
        return
    # clock_timestamp, not now(): two views in one transaction keep their order.
    viewed = sa.func.clock_timestamp()
    upsert = insert(recent_records).values(
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        record_id=record_id,
        object_id=obj.id,
        viewed_at=viewed,
    )
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["tenant_id", "user_id", "record_id"], set_={"viewed_at": viewed}
        )
    )
    mine = (
        recent_records.c.tenant_id == actor.tenant_id,
        recent_records.c.user_id == actor.user_id,
    )
    oldest_kept = (
        sa.select(recent_records.c.viewed_at)
        .where(*mine)
        .order_by(recent_records.c.viewed_at.desc())
        .offset(KEEP - 1)
        .limit(1)
        .scalar_subquery()
    )
    connection.execute(
        recent_records.delete().where(*mine, recent_records.c.viewed_at < oldest_kept)
    )


def recent_views(
    connection: Connection, access: Access, schema: TenantSchema, limit: int = 10
) -> list[RecentRecord]:
    """The reader's newest views of records they may still read, newest first."""
    readable = [obj for obj in schema.objects.values() if access.rights.has(obj.api_name, "read")]
    if access.actor.user_id is None or not readable:
        return []
    shape = (access.actor.tenant_id, access.shape, limit)
    statement = schema.statements.get(
        StatementKey(Statement.RECENT_RECORDS, uuid.UUID(int=0), shape),
        lambda: _statement(access, readable, limit),
    )
    by_id = {obj.id: obj for obj in readable}
    rows = connection.execute(statement, access.parameters).all()
    return [
        RecentRecord(by_id[row.object_id], row.record_id, row.name, row.viewed_at)
        for row in rows
        if row.object_id in by_id
    ]


def _statement(access: Access, objects: list[ObjectSchema], limit: int) -> sa.Select[Any]:
    """One statement over every readable object: a row passes when it is of one of them
    and passes that object's read predicate; its name is that object's name field."""
    recent = recent_records.alias("recent")
    passes: list[sa.ColumnElement[bool]] = []
    names: list[tuple[sa.ColumnElement[bool], sa.ColumnElement[str]]] = []
    for obj in objects:
        is_object = records.c.object_id == written_out(obj.id)
        predicate = access.predicate(obj, "read")
        passes.append(is_object if predicate is None else sa.and_(is_object, predicate))
        name = name_sql(obj, access)
        if name is not None:
            names.append((is_object, sa.literal_column(name, sa.Text)))
    name_column = sa.case(*names, else_=sa.null()) if names else sa.null()
    return (
        sa.select(
            recent.c.object_id,
            recent.c.record_id,
            recent.c.viewed_at,
            name_column.label("name"),
        )
        .select_from(
            recent.join(
                records,
                sa.and_(
                    records.c.tenant_id == recent.c.tenant_id, records.c.id == recent.c.record_id
                ),
            )
        )
        .where(
            recent.c.tenant_id == written_out(access.actor.tenant_id),
            recent.c.user_id == sa.bindparam("access_user", type_=recent.c.user_id.type),
            records.c.deleted_at.is_(None),
            sa.or_(*passes),
        )
        .order_by(recent.c.viewed_at.desc())
        .limit(limit)
    )
