"""Search rows through metadata changes: trellis.metadata records revisions but cannot
import the records package, so it announces each one through the
``metadata_revision_recorded`` hook, in the revision's transaction. Here the revision's
object changes (before and after each definition) decide, per field:

- deleted, purged, no longer searchable, or its object deleted: its rows go;
- its type or type-specific properties changed (a picklist's labels, a length that a
  forced change enforced by removing values), or it came back (a rollback, a restored
  object): its rows are rebuilt from the stored values;
- a new field: nothing to do; records have no value for it until a write gives one,
  and that write indexes it.

Roles and permission sets change nothing here: field-level security is applied when
searching, not when indexing.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.hookspecs import hookimpl
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.tables import metadata_revisions
from trellis.records.search_terms import drop_terms, rebuild_terms, searchable_fields


@hookimpl
def metadata_revision_recorded(
    connection: Connection,
    actor: Actor,
    revision: int,
    message: str,
    objects: list[str],
    schema: TenantSchema,
) -> None:
    """Drop or rebuild the search rows of the fields the revision changed."""
    changes = connection.execute(
        sa.select(metadata_revisions.c.changes).where(
            metadata_revisions.c.tenant_id == actor.tenant_id,
            metadata_revisions.c.revision == revision,
        )
    ).scalar_one()
    by_id = {obj.id: obj for obj in schema.objects.values()}
    for change in changes:
        if change.get("kind", "object") != "object":
            continue
        object_id = uuid.UUID(change["object_id"])
        after = by_id.get(object_id) if change["after"] is not None else None
        if after is None:
            drop_terms(connection, actor.tenant_id, object_id, None)
            continue
        dropped, rebuilt = fields_to_change(change["before"], after)
        if dropped:
            drop_terms(connection, actor.tenant_id, object_id, dropped)
        rebuild_terms(connection, actor.tenant_id, after, rebuilt)


def fields_to_change(
    before: dict[str, Any] | None, after: ObjectSchema
) -> tuple[list[str], list[CompiledField]]:
    """The names of the fields whose rows go, and the fields whose rows are rebuilt, when
    an object's definition goes from ``before`` (None: new, or restored) to ``after``."""
    indexed = {field.api_name: field for field in searchable_fields(after)}
    if before is None:
        return [], list(indexed.values())
    previous = {field["api_name"]: field for field in before["fields"]}
    dropped = [name for name in previous if name not in indexed]
    rebuilt = []
    for name, field in indexed.items():
        old = previous.get(name)
        if old is None:
            continue  # a new field: no record has a value for it yet
        if old.get("deleted") or _signature(field, old) != _signature(field, field.definition):
            rebuilt.append(field)
    return dropped, rebuilt


def _signature(field: CompiledField, definition: dict[str, Any]) -> tuple[Any, ...]:
    """What a field's search text depends on: its type and that type's own properties
    (a label or help text changes nothing that is indexed)."""
    return (
        definition.get("type"),
        tuple((key, repr(definition.get(key))) for key in sorted(field.type.properties)),
    )
