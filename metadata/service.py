"""Changing metadata: every change is validated, checked for data loss and recorded as a
revision (author, time, message, per-object before/after) that can be rolled back.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.metadata.compiled import MetadataCache, ObjectSchema, TenantSchema, forget_revision
from trellis.metadata.documents import (
    diff_definitions,
    keep_removed_fields,
    object_meta_schema,
    validate_object,
)
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.metadata.formula_checks import check_formulas
from trellis.metadata.indexes import plan_indexes
from trellis.metadata.layouts import without_field
from trellis.metadata.safety import check_data_loss
from trellis.metadata.secrets import keep_secrets
from trellis.metadata.tables import meta_access, meta_objects, metadata_revisions

MAX_REVISION = 2**31 - 1  # metadata_revisions.revision is an integer column
# One document's change in a revision: its id, its definition before and after.
Change = tuple[uuid.UUID, dict | None, dict | None]


class MetadataService:
    """Reads and writes one tenant's metadata inside the caller's transaction."""

    def __init__(
        self,
        connection: Connection,
        actor: Actor,
        cache: MetadataCache,
        right: str = "manage_metadata",
    ) -> None:
        self.connection = connection
        self.actor = actor
        self.cache = cache
        # The system right its changes need: automations are changed with their own.
        self.right = right
        self.registry: FieldTypeRegistry = cache.registry

    # -- reading -------------------------------------------------------------------------
    def schema(self) -> TenantSchema:
        return self.cache.get(self.connection, self.actor.tenant_id)

    def get_object(self, api_name: str) -> ObjectSchema:
        return self.schema().object(api_name)

    def revisions(self, limit: int = 100, before: int | None = None) -> list[sa.Row]:
        query = sa.select(metadata_revisions).order_by(metadata_revisions.c.revision.desc())
        # Revision numbers are 32-bit; a larger bound excludes nothing (and would overflow).
        if before is not None and before <= MAX_REVISION:
            query = query.where(metadata_revisions.c.revision < before)
        return list(self.connection.execute(query.limit(limit)))

    def revision(self, number: int) -> sa.Row:
        row = (
            None
            if number > MAX_REVISION
            else self.connection.execute(
                sa.select(metadata_revisions).where(metadata_revisions.c.revision == number)
            ).first()
        )
        if row is None:
            raise NotFound(f"No revision {number}.")
        return row

    # -- writing -------------------------------------------------------------------------
    def create_object(self, definition: Any, *, message: str = "") -> ObjectSchema:
        self.actor.require_right(self.right)
        self._lock()
        schema = self.schema()
        definition = keep_secrets(schema.actions, definition, None)
        definition = validate_object(
            definition, self.registry, known_objects=self._object_names(schema)
        )
        if definition["api_name"].lower() in schema.objects:
            raise Conflict(
                f"Object {definition['api_name']} already exists.",
                fields={"api_name": "Already taken."},
            )
        check_formulas(schema, definition, uuid.uuid4(), self.registry)
        object_id = self.connection.execute(
            meta_objects.insert()
            .values(
                tenant_id=self.actor.tenant_id,
                api_name=definition["api_name"],
                definition=definition,
            )
            .returning(meta_objects.c.id)
        ).scalar_one()
        self._record_revision(
            message or f"Create {definition['api_name']}", [(object_id, None, definition)]
        )
        return self.get_object(definition["api_name"])

    def replace_object(
        self, api_name: str, definition: Any, *, force: bool = False, message: str = ""
    ) -> ObjectSchema:
        """Replace a whole definition (fields left out are hidden, not dropped)."""
        self.actor.require_right(self.right)
        self._lock()
        schema = self.schema()
        current = schema.object(api_name)
        if isinstance(definition, dict) and definition.get("api_name") != current.api_name:
            raise ValidationError(
                "An object's api_name cannot change.",
                fields={"api_name": f"Must stay {current.api_name}."},
            )
        # Secrets are write-only: one left out (or sent back masked) keeps its stored value.
        definition = keep_secrets(schema.actions, definition, current.definition)
        definition = keep_removed_fields(current.definition, definition)
        definition = validate_object(
            definition, self.registry, known_objects=self._object_names(schema)
        )
        self._check_immutable_fields(current.definition, definition)
        check_formulas(schema, definition, current.id, self.registry)
        check_data_loss(
            self.connection,
            self.actor.tenant_id,
            current,
            definition,
            self.registry,
            force=force,
            actor_id=self.actor.user_id,
        )
        self.connection.execute(
            meta_objects.update()
            .where(meta_objects.c.id == current.id)
            .values(definition=definition, updated_at=sa.func.now())
        )
        self._record_revision(
            message or f"Change {current.api_name}", [(current.id, current.definition, definition)]
        )
        return self.get_object(current.api_name)

    def add_field(self, api_name: str, field: Any, *, message: str = "") -> ObjectSchema:
        current = self.get_object(api_name)
        if not isinstance(field, dict):
            raise ValidationError("A field is a JSON object.")
        name = str(field.get("api_name", ""))
        if any(f["api_name"].lower() == name.lower() for f in current.definition["fields"]):
            raise Conflict(
                f"{current.api_name} already has a field {name}.",
                fields={"api_name": "Already taken (perhaps by a deleted field)."},
            )
        definition = {**current.definition, "fields": [*current.definition["fields"], field]}
        return self.replace_object(
            api_name, definition, message=message or f"Add {api_name}.{name}"
        )

    def change_field(
        self,
        api_name: str,
        field_name: str,
        changes: Any,
        *,
        force: bool = False,
        message: str = "",
    ) -> ObjectSchema:
        current = self.get_object(api_name)
        existing = current.definition_field(field_name)
        if not isinstance(changes, dict):
            raise ValidationError("Send the changed field properties as a JSON object.")
        if changes.get("api_name", existing["api_name"]) != existing["api_name"]:
            raise ValidationError(
                "A field's api_name cannot change.",
                fields={"api_name": f"Must stay {existing['api_name']}."},
            )
        updated = {**existing, **changes}
        if changes.get("type", existing["type"]) != existing["type"]:
            # A new type takes its own properties; the old type's would be rejected.
            common = object_meta_schema()["$defs"]["field_common"]
            updated = {key: value for key, value in existing.items() if key in common}
            updated.update(changes)
        fields = [updated if f is existing else f for f in current.definition["fields"]]
        return self.replace_object(
            api_name,
            {**current.definition, "fields": fields},
            force=force,
            message=message or f"Change {api_name}.{field_name}",
        )

    def delete_field(self, api_name: str, field_name: str, *, message: str = "") -> ObjectSchema:
        """Hide a field (its values stay until purged) and take it off the layout."""
        current = self.get_object(api_name)
        definition = without_field(current.definition, current.definition_field(field_name))
        return self.replace_object(
            api_name, definition, message=message or f"Delete {api_name}.{field_name}"
        )

    def delete_object(self, api_name: str, *, force: bool = False) -> None:
        """Hide an object (its records stay, restorable by rolling back)."""
        self.actor.require_right(self.right)
        self._lock()
        schema = self.schema()
        current = schema.object(api_name)
        referencing = [
            f"{obj.api_name}.{field.api_name}"
            for obj, field in schema.referencing_lookups(current.api_name)
            if obj.id != current.id
        ]
        if referencing:
            raise Conflict(
                f"{', '.join(referencing)} look up to {current.api_name}; "
                "delete those fields first.",
                code="referenced",
            )
        count = self.connection.execute(
            sa.text(
                "SELECT count(*) FROM records WHERE object_id = :object AND deleted_at IS NULL"
            ),
            {"object": current.id},
        ).scalar_one()
        if count and not force:
            raise Conflict(
                f"{current.api_name} has {count} record(s); force to delete anyway.",
                code="has_records",
            )
        self.connection.execute(
            meta_objects.update()
            .where(meta_objects.c.id == current.id)
            .values(deleted_at=sa.func.now())
        )
        self._record_revision(
            f"Delete {current.api_name}", [(current.id, current.definition, None)]
        )

    def purge_field(self, api_name: str, field_name: str) -> int:
        """Erase a deleted field's values from every record and drop it from the definition."""
        self.actor.require_right(self.right)
        self._lock()
        current = self.get_object(api_name)
        field = next(
            (
                f
                for f in current.definition["fields"]
                if f["api_name"].lower() == field_name.lower()
            ),
            None,
        )
        if field is None:
            raise NotFound(f"{current.api_name} has no field {field_name!r}.")
        if not field.get("deleted"):
            raise Conflict("Delete the field before purging its values.", code="not_deleted")
        name = field["api_name"]
        purged = self.connection.execute(
            sa.text(
                f"UPDATE records SET data = data - '{name}' "
                f"WHERE object_id = :object AND data ? '{name}'"
            ),
            {"object": current.id},
        ).rowcount
        definition = {
            **current.definition,
            "fields": [f for f in current.definition["fields"] if f is not field],
        }
        self.connection.execute(
            meta_objects.update()
            .where(meta_objects.c.id == current.id)
            .values(definition=definition, updated_at=sa.func.now())
        )
        self._record_revision(
            f"Purge {current.api_name}.{name}", [(current.id, current.definition, definition)]
        )
        return purged

    def rollback(self, revision: int, *, message: str = "") -> int:
        """Restore every object as it was at ``revision``, as a new revision."""
        self.actor.require_right(self.right)
        self._lock()
        self.revision(revision)
        later = self.connection.execute(
            sa.select(metadata_revisions.c.changes)
            .where(metadata_revisions.c.revision > revision)
            .order_by(metadata_revisions.c.revision)
        ).scalars()
        restore: dict[tuple[str, str], dict[str, Any] | None] = {}
        for changes in later:
            for change in changes:
                key = (change.get("kind", "object"), change["object_id"])
                restore.setdefault(key, change["before"])
        if not restore:
            raise ValidationError(f"Nothing changed after revision {revision}.")
        applied: dict[str, list[Change]] = {}
        for (kind, document_id), before in restore.items():
            table = meta_objects if kind == "object" else meta_access
            row = self.connection.execute(
                sa.select(table).where(table.c.id == uuid.UUID(document_id))
            ).one()
            after_now = None if row.deleted_at is not None else row.definition
            self.connection.execute(
                table.update()
                .where(table.c.id == row.id)
                .values(
                    definition=before or row.definition,
                    updated_at=sa.func.now(),
                    deleted_at=sa.func.now() if before is None else None,
                )
            )
            applied.setdefault(kind, []).append((row.id, after_now, before))
        return self.record_revision(message or f"Roll back to revision {revision}", applied)

    # -- helpers -------------------------------------------------------------------------
    def _lock(self) -> None:
        # Serialise metadata changes per tenant so revisions are gapless and every
        # change validates against the state it replaces.
        self.connection.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(
                    sa.func.hashtextextended(f"trellis-metadata:{self.actor.tenant_id}", 0)
                )
            )
        )

    @staticmethod
    def _object_names(schema: TenantSchema) -> list[str]:
        return [obj.api_name for obj in schema.objects.values()]

    def _check_immutable_fields(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        old = {f["api_name"].lower(): f for f in before["fields"]}
        errors = {}
        for field in after["fields"]:
            previous = old.get(field["api_name"].lower())
            if previous is None:
                continue
            if previous["api_name"] != field["api_name"]:
                errors[f"fields.{field['api_name']}.api_name"] = ["Field names cannot change case."]
            if (
                previous["type"] == field["type"]
                and self._references_records(field["type"])
                and previous["target"].lower() != field["target"].lower()
            ):
                errors[f"fields.{field['api_name']}.target"] = [
                    "A lookup's target cannot change; add a new lookup field instead."
                ]
        if errors:
            raise ValidationError("Some changes are not allowed.", fields=errors)

    def _references_records(self, type_name: str) -> bool:
        return type_name in self.registry and self.registry.get(type_name).references_records

    def _record_revision(self, message: str, changes: list[Change]) -> int:
        return self.record_revision(message, {"object": changes})

    def record_revision(self, message: str, changes: dict[str, list[Change]]) -> int:
        """Record one revision of ``changes`` (by kind: object, role, permission_set)."""
        forget_revision(self.connection)
        message = message.replace("\x00", "")[:500]  # PostgreSQL text cannot hold NUL
        number = self.connection.execute(
            sa.select(sa.func.coalesce(sa.func.max(metadata_revisions.c.revision), 0) + 1)
        ).scalar_one()
        self.connection.execute(
            metadata_revisions.insert().values(
                tenant_id=self.actor.tenant_id,
                revision=number,
                author_id=self.actor.user_id,
                message=message,
                changes=[
                    {
                        **({} if kind == "object" else {"kind": kind}),
                        "object_id": str(object_id),
                        "object": (after or before or {}).get("api_name"),
                        "before": before,
                        "after": after,
                        "diff": diff_definitions(before, after),
                    }
                    for kind, entries in changes.items()
                    for object_id, before, after in entries
                ],
            )
        )
        plan_indexes(self.connection, self.actor.tenant_id, self.schema())
        hooks = self.cache.hooks
        if hooks is not None:  # the audit trail, a layer above, records the revision
            hooks.metadata_revision_recorded(
                connection=self.connection,
                actor=self.actor,
                revision=number,
                message=message,
                objects=_object_names_of(changes.get("object", [])),
                schema=self.schema(),
            )
        return number


def _object_names_of(changes: list[Change]) -> list[str]:
    """The api names of the objects a revision changes (as they are after it)."""
    names = {(after or before or {}).get("api_name") for _, before, after in changes}
    return sorted(name for name in names if isinstance(name, str))
