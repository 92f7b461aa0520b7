"""The records service: every create, update, delete and restore goes through here.

The API uses it today; the UI, CSV import and automations use it too, so type
checks, required and unique fields, lookups, auto-numbers, history, the events
outbox and optimistic concurrency hold for every channel. All of one write happens
in the caller's transaction: either everything is stored or nothing is.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.access.sharing import sync_rule_shares
from trellis.actor import Actor
from trellis.db import driver_execute
from trellis.errors import Conflict, TrellisError
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.new_records import check_new_records
from trellis.records.owners import Owners, valid_owner
from trellis.records.projection import Projection
from trellis.records.reads import select_record
from trellis.records.references import check_references, referencing_ids, sync_refs
from trellis.records.rules import RuleContext, apply_default_formulas, before_save, enforce
from trellis.records.search_terms import searchable_fields, sync_terms, term_parameters
from trellis.records.serialize import SavedRecord, record_json_text
from trellis.records.tables import records
from trellis.records.uniqueness import check_unique
from trellis.records.users import check_managed_edits, refuse_managed, user_record_changed
from trellis.records.values import apply_defaults, is_blank, normalize_values, required_errors
from trellis.records.writes import LOG, check_version, create_statement

MAX_CASCADE_DEPTH = 10


class RecordService:
    def __init__(
        self,
        connection: Connection,
        actor: Actor,
        schema: TenantSchema,
        obj: ObjectSchema,
        chain: dict[str, Any] | None = None,
        access: Access | None = None,
    ) -> None:
        self.connection = connection
        self.actor = actor
        self.schema = schema
        self.obj = obj
        # Set when an automation writes: carried into events for recursion protection.
        self.chain = chain
        # What the actor may read and change: checked here, for every channel.
        self.access = access or Access.of(actor, schema)

    # -- reading -------------------------------------------------------------------------
    def _json(self, projection: Projection | None = None) -> sa.ColumnElement:
        return record_json_text(self.obj, self.schema, self.access, projection)

    def locate(self, record_id: Any, permission: str | None = None) -> uuid.UUID:
        """The id of a record the actor may read (and ``permission``: edit or delete)."""
        return self._row(record_id, permission=permission).id

    def get(self, record_id: Any, *, include_deleted: bool = False) -> SavedRecord:
        return SavedRecord(self._row(record_id, include_deleted=include_deleted).json)

    def get_json(self, record_id: Any, projection: Projection | None = None) -> tuple[str, int]:
        """The record's JSON text (every field, or ``projection``) and version (for the
        ETag)."""
        row = select_record(
            self.connection,
            self.actor.tenant_id,
            self.schema,
            self.obj,
            record_id,
            ("json", projection),
            lambda: (records.c.version, self._json(projection).label("json")),
            self.access,
        )
        return row.json, row.version

    def _row(
        self,
        record_id: Any,
        *,
        include_deleted: bool = False,
        for_update: bool = False,
        permission: str | None = None,
    ) -> sa.Row:
        return select_record(
            self.connection,
            self.actor.tenant_id,
            self.schema,
            self.obj,
            record_id,
            "row",
            lambda: (
                records.c.id,
                records.c.data,
                records.c.version,
                records.c.deleted_at,
                records.c.owner_id,
                self._json().label("json"),
            ),
            self.access,
            include_deleted=include_deleted,
            for_update=for_update,
            permission=permission,
        )

    # -- writing -------------------------------------------------------------------------
    def create(self, values: Any) -> SavedRecord:
        result = self.create_many([values])[0]
        if isinstance(result, TrellisError):
            raise result
        return result

    def create_many(self, items: list[Any]) -> list[SavedRecord | TrellisError]:
        """Create several records: each item's record, or the error that refused it.

        Each item is checked on its own first (types, rights, rules); the checks that
        read the database then run once for the batch (trellis.records.new_records),
        and the valid records are written together in one statement. A failure the
        checks cannot foresee (a database constraint) raises, for the caller to roll
        back."""
        refuse_managed(self.obj)
        self.access.rights.require(self.obj.api_name, "create")
        context = RuleContext(self.connection, self.actor, self.schema)
        owners = Owners(self.connection, self.actor)
        prepared: list[dict[str, Any] | TrellisError] = []
        for values in items:
            try:
                prepared.append(self._prepare(values, context, owners))
            except TrellisError as error:
                prepared.append(error)
        check_new_records(self.connection, self.access, self.obj, prepared)
        saved = iter(self._insert([p for p in prepared if not isinstance(p, TrellisError)]))
        return [p if isinstance(p, TrellisError) else next(saved) for p in prepared]

    def _prepare(self, values: Any, context: RuleContext, owners: Owners) -> dict[str, Any]:
        """A new record's row, checked on its own, not yet written. The records of one
        request share ``context`` (its clock and the related records it has read)."""
        data, system = normalize_values(
            self.obj, values, prior=None, system_actor=self.actor.user_id is None
        )
        self.access.check_field_edits(
            self.obj, [name for name, value in data.items() if not is_blank(value)]
        )
        sent = set(data)
        apply_defaults(self.obj, data)
        apply_default_formulas(context, self.obj, data)
        data = {name: value for name, value in data.items() if not is_blank(value)}
        owner_id = owners.valid(system.get("owner_id", self.actor.user_id))
        view_system = {
            "owner_id": owner_id,
            "created_by": self.actor.user_id,
            "updated_by": self.actor.user_id,
        }
        before_save(context, self.obj, "record.created", data, None, view_system)
        enforce(context, self.obj, data, None, sent, view_system, required_errors(self.obj, data))
        return {"id": uuid.uuid4(), "data": data, "owner_id": owner_id}

    def _insert(self, new: list[dict[str, Any]]) -> list[SavedRecord]:
        """Write prepared records, their history and their events: one statement."""
        if not new:
            return []
        statement = self.schema.statements.get(
            # Its RETURNING is the record as this actor may read it (trellis.records.serialize).
            StatementKey(Statement.CREATE, self.obj.id, self.access.shape),
            lambda: create_statement(
                self._json(),
                tuple(field.api_name for field in self.obj.lookups()),
                bool(searchable_fields(self.obj)),
            ),
        )
        saved = {
            row.id: row.json
            for row in driver_execute(
                self.connection,
                statement,
                {
                    **self._log_parameters(),
                    "rows": Jsonb([_json_row(row) for row in new]),
                    **term_parameters(searchable_fields(self.obj), new),
                    **self.access.parameters,
                },
            )
        }
        sync_rule_shares(
            self.connection, self.actor.tenant_id, self.schema, self.obj, [row["id"] for row in new]
        )
        return [SavedRecord(saved[row["id"]]) for row in new]

    def update(
        self,
        record_id: Any,
        values: Any,
        *,
        expected_version: int | None = None,
        erasure: bool = False,
    ) -> SavedRecord:
        """Change a live record. An ``erasure`` of a person's data (trellis.records.privacy)
        also changes read-only fields and records in the recycle bin: no copy may stay."""
        self.access.rights.require(self.obj.api_name, "edit")
        current = self._row(record_id, include_deleted=erasure, for_update=True, permission="edit")
        check_version(current, expected_version)
        prior = current.data
        changed, system = normalize_values(
            self.obj, values, prior=prior, system_actor=erasure or self.actor.user_id is None
        )
        edited = [name for name in changed if changed[name] != prior.get(name)]
        check_managed_edits(self.obj, edited)
        self.access.check_field_edits(self.obj, edited)
        merged = {**prior, **changed}
        merged = {name: value for name, value in merged.items() if not is_blank(value)}
        context = RuleContext(self.connection, self.actor, self.schema)
        view_system = {"id": current.id, "owner_id": current.owner_id, "version": current.version}
        automated = before_save(context, self.obj, "record.updated", merged, prior, view_system)
        required = required_errors(self.obj, merged)
        enforce(context, self.obj, merged, prior, set(changed), view_system, required)
        changes = {
            name: [prior.get(name), merged.get(name)]
            for name in {*changed, *automated}
            if prior.get(name) != merged.get(name)
        }
        updates: dict[str, Any] = {}
        if "owner_id" in system and str(system["owner_id"]) != str(current.owner_id):
            # Transferring a record is for its owner, those above them, and modify all.
            self._row(current.id, permission="delete")
            updates["owner_id"] = valid_owner(self.connection, self.actor, system["owner_id"])
        if not changes and not updates:
            return self.get(current.id, include_deleted=erasure)
        new_values = {name: merged.get(name) for name in changes if name in self.obj.fields}
        tenant_id = self.actor.tenant_id
        check_references(self.connection, self.access, self.obj, new_values)
        check_unique(self.connection, tenant_id, self.obj, new_values, current.id)
        row = self._store(current.id, prior, merged, updates)
        user_record_changed(self.connection, tenant_id, self.schema, self.obj, changes)
        if "owner_id" in updates:
            changes["owner_id"] = [None, str(updates["owner_id"])]
        self._log(current.id, "updated", changes, record=merged, prior=prior)
        return SavedRecord(row)

    def _store(
        self,
        record_id: uuid.UUID,
        prior: dict[str, Any],
        merged: dict[str, Any],
        updates: dict[str, Any],
    ) -> str:
        """Write an update, its references and rule shares; the record's JSON."""
        row = self.connection.execute(
            records.update()
            .where(records.c.tenant_id == self.actor.tenant_id, records.c.id == record_id)
            .values(
                data=merged,
                version=records.c.version + 1,
                updated_at=sa.func.now(),
                updated_by=self.actor.user_id,
                **updates,
            )
            .returning(self._json()),
            self.access.parameters,
        ).scalar_one()
        sync_refs(self.connection, self.actor.tenant_id, self.obj, record_id, prior, merged)
        sync_terms(self.connection, self.actor.tenant_id, self.obj, record_id, prior, merged)
        sync_rule_shares(self.connection, self.actor.tenant_id, self.schema, self.obj, [record_id])
        return str(row)

    def delete(
        self,
        record_id: Any,
        *,
        expected_version: int | None = None,
        _depth: int = 0,
        _cascade_from: uuid.UUID | None = None,
    ) -> None:
        """Soft-delete (recycle bin), applying each referencing lookup's ``on_delete``."""
        refuse_managed(self.obj)
        self.access.rights.require(self.obj.api_name, "delete")
        current = self._row(record_id, for_update=True, permission="delete")
        check_version(current, expected_version)
        self._apply_on_delete(current.id, _depth)
        self.connection.execute(
            records.update()
            .where(records.c.tenant_id == self.actor.tenant_id, records.c.id == current.id)
            .values(
                deleted_at=sa.func.now(),
                version=records.c.version + 1,
                updated_at=sa.func.now(),
                updated_by=self.actor.user_id,
            )
        )
        detail = {"cascade_from": [None, str(_cascade_from)]} if _cascade_from else {}
        self._log(current.id, "deleted", detail, prior=current.data)

    def restore(self, record_id: Any) -> SavedRecord:
        self.access.rights.require(self.obj.api_name, "delete")
        current = self._row(record_id, include_deleted=True, for_update=True, permission="delete")
        if current.deleted_at is None:
            raise Conflict("The record is not deleted.")
        check_unique(
            self.connection,
            self.actor.tenant_id,
            self.obj,
            {name: current.data.get(name) for name in self.obj.fields},
            current.id,
        )
        self.connection.execute(
            records.update()
            .where(records.c.tenant_id == self.actor.tenant_id, records.c.id == current.id)
            .values(
                deleted_at=None,
                version=records.c.version + 1,
                updated_at=sa.func.now(),
                updated_by=self.actor.user_id,
            )
        )
        self._log(current.id, "restored", {}, record=current.data)
        return self.get(current.id)

    # -- cascades ------------------------------------------------------------------------
    def _apply_on_delete(self, record_id: uuid.UUID, depth: int) -> None:
        if depth > MAX_CASCADE_DEPTH:
            raise Conflict("Deleting this record would cascade too deep.")
        for source, field in self.schema.referencing_lookups(self.obj.api_name):
            referencing = referencing_ids(
                self.connection, self.actor.tenant_id, source, field, record_id
            )
            if not referencing:
                continue
            action = field.definition.get("on_delete", "set_null")
            # The delete was allowed: its cascade reaches records the actor may not see.
            everything = Access.unrestricted(self.actor, self.schema)
            service = RecordService(
                self.connection, self.actor, self.schema, source, access=everything
            )
            if action == "restrict":
                raise Conflict(
                    f"{len(referencing)} {source.api_name} record(s) refer to this record "
                    f"through {field.api_name}; delete or change them first.",
                    code="referenced",
                )
            for source_id in referencing:
                if action == "cascade":
                    service.delete(source_id, _depth=depth + 1, _cascade_from=record_id)
                else:
                    service.update(source_id, {field.api_name: None})

    def _log(
        self,
        record_id: uuid.UUID,
        action: str,
        changes: dict[str, list[Any]],
        *,
        record: Mapping[str, Any] | None = None,
        prior: Mapping[str, Any] | None = None,
    ) -> None:
        """The history row and outbox event of an update, delete or restore (creates log
        in their own statement)."""
        driver_execute(
            self.connection,
            LOG,
            {
                **self._log_parameters(),
                "record_id": record_id,
                "action": action,
                "changes": Jsonb(changes),
                "record": Jsonb(record),
                "prior": Jsonb(prior),
            },
        )

    def _log_parameters(self) -> dict[str, Any]:
        # Jsonb(None) is JSON null: the payload reads the same as a missing value would.
        return {
            "tenant_id": self.actor.tenant_id,
            "object_id": self.obj.id,
            "actor_id": self.actor.user_id,
            "object_name": self.obj.api_name,
            "chain": Jsonb(self.chain),
        }


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A prepared record as an element of the create statement's ``rows`` document."""
    owner_id = row["owner_id"]
    return {"id": str(row["id"]), "data": row["data"], "owner_id": owner_id and str(owner_id)}
