"""Lookup references: a lookup's value must name a live record of its target, and the
``record_refs`` rows that index lookups (for ``on_delete``) follow an update's values."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.errors import ValidationError
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.records.tables import record_refs, records


def check_references(
    connection: Connection,
    tenant_id: uuid.UUID,
    schema: TenantSchema,
    obj: ObjectSchema,
    values: Mapping[str, Any],
) -> None:
    errors = {}
    for field in obj.lookups():
        target_id = values.get(field.api_name)
        if target_id is None:
            continue
        target = schema.object(field.definition["target"])
        found = connection.execute(
            sa.select(records.c.id).where(
                records.c.tenant_id == tenant_id,
                records.c.object_id == target.id,
                records.c.id == uuid.UUID(target_id),
                records.c.deleted_at.is_(None),
            )
        ).first()
        if found is None:
            errors[field.api_name] = [f"No {target.api_name} record {target_id}."]
    if errors:
        raise ValidationError("Some lookups point nowhere.", fields=errors)


def sync_refs(
    connection: Connection,
    tenant_id: uuid.UUID,
    obj: ObjectSchema,
    record_id: uuid.UUID,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    """Replace the ``record_refs`` rows of the lookups an update changed (a create
    writes its own, see writes.create_statement)."""
    for field in obj.lookups():
        name = field.api_name
        if before.get(name) == after.get(name):
            continue
        connection.execute(
            record_refs.delete().where(
                record_refs.c.tenant_id == tenant_id,
                record_refs.c.source_id == record_id,
                record_refs.c.field == name,
            )
        )
        if after.get(name) is not None:
            connection.execute(
                record_refs.insert().values(
                    tenant_id=tenant_id,
                    source_id=record_id,
                    field=name,
                    target_id=uuid.UUID(after[name]),
                    source_object_id=obj.id,
                )
            )


def referencing_ids(
    connection: Connection,
    tenant_id: uuid.UUID,
    source: ObjectSchema,
    field: CompiledField,
    record_id: uuid.UUID,
) -> list[uuid.UUID]:
    """The live ``source`` records whose lookup ``field`` points at ``record_id``."""
    return list(
        connection.execute(
            sa.select(records.c.id)
            .join(
                record_refs,
                sa.and_(
                    record_refs.c.tenant_id == records.c.tenant_id,
                    record_refs.c.source_id == records.c.id,
                ),
            )
            .where(
                record_refs.c.tenant_id == tenant_id,
                record_refs.c.target_id == record_id,
                record_refs.c.field == field.api_name,
                records.c.object_id == source.id,
                records.c.deleted_at.is_(None),
            )
        ).scalars()
    )
