"""Lookup references: a lookup's value must name a live record of its target that the
writer may read, and the ``record_refs`` rows that index lookups (for ``on_delete``)
follow an update's values."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.errors import ValidationError
from trellis.metadata.compiled import CompiledField, ObjectSchema
from trellis.records.tables import record_refs, records

_UUID = UUID(as_uuid=True)


def check_references(
    connection: Connection, access: Access, obj: ObjectSchema, values: Mapping[str, Any]
) -> None:
    """Refuse lookups of one record that point at no live record its writer may read."""
    errors = reference_errors(connection, access, obj, [values])[0]
    if errors:
        raise reference_error(errors)


def reference_error(fields: dict[str, list[str]]) -> ValidationError:
    return ValidationError("Some lookups point nowhere.", fields=fields)


def reference_errors(
    connection: Connection, access: Access, obj: ObjectSchema, batch: Sequence[Mapping[str, Any]]
) -> list[dict[str, list[str]]]:
    """Each record's lookups that point at no live record of their target the writer
    may read, by field (empty: none): one query per lookup field for the whole batch.

    A record the writer may not read is refused as one that does not exist, so that the
    refusal does not tell them it exists."""
    found: list[dict[str, list[str]]] = [{} for _ in batch]
    for field in obj.lookups():
        name = field.api_name
        wanted = {uuid.UUID(values[name]) for values in batch if values.get(name) is not None}
        if not wanted:
            continue
        target = access.schema.object(field.definition["target"])
        live = _readable_ids(connection, access, target, wanted)
        for values, errors in zip(batch, found, strict=True):
            if values.get(name) is not None and uuid.UUID(values[name]) not in live:
                errors[name] = [f"No {target.api_name} record {values[name]}."]
    return found


def _readable_ids(
    connection: Connection, access: Access, target: ObjectSchema, ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``ids`` that are live records of ``target`` the actor may read."""
    readable = access.readable(target, "records")
    query = sa.select(records.c.id).where(
        records.c.tenant_id == access.actor.tenant_id,
        records.c.object_id == target.id,
        records.c.deleted_at.is_(None),
        records.c.id == sa.any_(sa.bindparam("ids", sorted(ids), type_=ARRAY(_UUID))),
        *([] if readable is None else [readable]),
    )
    return set(connection.execute(query, access.parameters).scalars())


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
