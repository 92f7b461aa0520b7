"""Reading one record by id: the row a write locks, or the JSON a read returns, with its
statement built once per metadata revision."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.db import driver_execute
from trellis.errors import NotFound
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.tables import records


def select_record(
    connection: Connection,
    tenant_id: uuid.UUID,
    schema: TenantSchema,
    obj: ObjectSchema,
    record_id: Any,
    kind: str,
    columns: Callable[[], Any],
    *,
    include_deleted: bool = False,
    for_update: bool = False,
) -> sa.Row:
    """One record's ``columns()``, with a statement built once per revision and ``kind``."""

    def build() -> sa.Select:
        query = sa.select(*columns()).where(
            records.c.tenant_id == sa.bindparam("tenant_id"),
            records.c.object_id == obj.id,
            records.c.id == sa.bindparam("record_id"),
        )
        if not include_deleted:
            query = query.where(records.c.deleted_at.is_(None))
        return query.with_for_update() if for_update else query

    query = schema.statements.get(
        StatementKey(Statement.RECORD_ROW, obj.id, (kind, include_deleted, for_update)),
        build,
    )
    row = driver_execute(
        connection,
        query,
        {"tenant_id": tenant_id, "record_id": parse_record_id(record_id)},
    ).fetchone()
    if row is None:
        raise NotFound(f"No {obj.api_name} record {record_id}.")
    return row


def parse_record_id(record_id: Any) -> uuid.UUID:
    try:
        return record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound(f"No record {record_id}.") from None
