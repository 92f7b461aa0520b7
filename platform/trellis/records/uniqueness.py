"""Unique fields: a value a unique field already holds (in the table, or earlier in the
same batch) is refused, with writers of one value serialised by an advisory lock."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.records.tables import records


def check_unique(
    connection: Connection,
    tenant_id: uuid.UUID,
    obj: ObjectSchema,
    values: Mapping[str, Any],
    record_id: uuid.UUID,
    unique_in_batch: set[tuple[str, str]] | None = None,
) -> None:
    """Refuse values a unique field already holds (in the table, or earlier in the same
    batch, whose records are not written yet)."""
    errors, claimed = {}, []
    for field in obj.writes.unique:
        name, value = field.api_name, values.get(field.api_name)
        if value is None:
            continue
        lock_value(connection, obj, name, value)
        stored = sa.literal_column(field.stored_text_expression, sa.Text)
        clash = connection.execute(
            sa.select(records.c.id)
            .where(
                records.c.tenant_id == tenant_id,
                records.c.object_id == obj.id,
                records.c.deleted_at.is_(None),
                records.c.id != record_id,
                stored == stored_text(value),
            )
            .limit(1)
        ).first()
        key = (name, stored_text(value))
        if clash is not None or key in (unique_in_batch or ()):
            errors[name] = [f"Another {obj.api_name} already has this value."]
        claimed.append(key)
    if errors:
        raise ValidationError("Some values must be unique.", fields=errors, code="duplicate_value")
    if unique_in_batch is not None:
        unique_in_batch.update(claimed)


def lock_value(connection: Connection, obj: ObjectSchema, name: str, value: Any) -> None:
    """Serialise the writers of one value of a unique field until the transaction ends.

    The unique partial index backs this up once it is built, but the check must hold
    while it is still building; an upsert takes the same lock before it looks for the
    record (trellis.records.upserts). Taking it twice in one transaction is harmless."""
    lock_key = f"unique:{obj.id}:{name}:{json.dumps(value)}"
    connection.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(lock_key, 0)))
    )


def stored_text(value: Any) -> str:
    """What ``data->>'field'`` yields for a stored JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)
