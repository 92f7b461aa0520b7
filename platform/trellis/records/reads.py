"""Reading one record by id: the row a write locks, or the JSON a read returns, with its
statement built once per metadata revision and access shape.

Without the read right on the object every record is refused with a 403, as its list
is; a record the actor may not read is not found (a 404 does not reveal that it exists);
one they may read but not change as asked (``permission``) is refused with a 403."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.db import driver_execute
from trellis.errors import Forbidden, NotFound
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.tables import records


def select_record(
    connection: Connection,
    tenant_id: uuid.UUID,
    schema: TenantSchema,
    obj: ObjectSchema,
    record_id: Any,
    kind: Hashable,
    columns: Callable[[], Any],
    access: Access,
    *,
    include_deleted: bool = False,
    for_update: bool = False,
    permission: str | None = None,
) -> sa.Row:
    """One record's ``columns()`` if ``access`` may read it (and ``permission`` it: edit
    or delete), with a statement built once per revision, ``kind`` and access shape."""
    access.rights.require(obj.api_name, "read")

    def build() -> sa.Select:
        check = access.predicate(obj, permission) if permission else None
        query = sa.select(
            *columns(),
            (sa.true() if check is None else sa.case((check, True), else_=False)).label(
                "permitted"
            ),
        ).where(
            records.c.tenant_id == sa.bindparam("tenant_id"),
            records.c.object_id == obj.id,
            records.c.id == sa.bindparam("record_id"),
        )
        readable = access.predicate(obj, "read")
        if readable is not None:
            query = query.where(readable)
        if not include_deleted:
            query = query.where(records.c.deleted_at.is_(None))
        return query.with_for_update(of=records) if for_update else query

    shape = (kind, include_deleted, for_update, permission, access.shape)
    query = schema.statements.get(StatementKey(Statement.RECORD_ROW, obj.id, shape), build)
    row = driver_execute(
        connection,
        query,
        {
            "tenant_id": tenant_id,
            "record_id": parse_record_id(record_id),
            **access.parameters,
        },
    ).fetchone()
    if row is None:
        raise NotFound(f"No {obj.api_name} record {record_id}.")
    if not row.permitted:
        raise Forbidden(
            f"You may not {permission} this {obj.api_name} record.", code="no_record_access"
        )
    return row


def parse_record_id(record_id: Any) -> uuid.UUID:
    try:
        return record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound(f"No record {record_id}.") from None
