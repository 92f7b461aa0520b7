"""The records service: every create, update, delete and restore goes through here.

The API uses it today; the UI, CSV import and automations use it too, so type
checks, required and unique fields, lookups, auto-numbers, history, the events
outbox and optimistic concurrency hold for every channel. All of one write happens
in the caller's transaction: either everything is stored or nothing is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.db import driver_execute
from trellis.errors import Conflict, NotFound, PreconditionFailed, TrellisError, ValidationError
from trellis.identity.tables import users
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.rules import RuleContext, apply_default_formulas, enforce
from trellis.records.serialize import SavedRecord, record_json_text
from trellis.records.tables import auto_number_counters, record_refs, records
from trellis.records.values import apply_defaults, is_blank, normalize_values, required_errors
from trellis.records.writes import LOG, create_statement

MAX_CASCADE_DEPTH = 10


class RecordService:
    def __init__(
        self,
        connection: Connection,
        actor: Actor,
        schema: TenantSchema,
        obj: ObjectSchema,
        chain: dict[str, Any] | None = None,
    ) -> None:
        self.connection = connection
        self.actor = actor
        self.schema = schema
        self.obj = obj
        # Set when an automation writes: carried into events for recursion protection.
        self.chain = chain

    # -- reading -------------------------------------------------------------------------
    def _json(self) -> sa.ColumnElement:
        return record_json_text(self.obj, self.schema, self.actor.tenant_id)

    def get(self, record_id: Any, *, include_deleted: bool = False) -> SavedRecord:
        return SavedRecord(self._row(record_id, include_deleted=include_deleted).json)

    def get_json(self, record_id: Any) -> tuple[str, int]:
        """The record's JSON text and version (for the ETag)."""
        row = self._select(
            record_id, "json", lambda: (records.c.version, self._json().label("json"))
        )
        return row.json, row.version

    def _row(
        self, record_id: Any, *, include_deleted: bool = False, for_update: bool = False
    ) -> sa.Row:
        return self._select(
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
            include_deleted=include_deleted,
            for_update=for_update,
        )

    def _select(
        self,
        record_id: Any,
        kind: str,
        columns: Any,
        *,
        include_deleted: bool = False,
        for_update: bool = False,
    ) -> sa.Row:
        """One record's ``columns()``, with a statement built once per revision."""

        def build() -> sa.Select:
            query = sa.select(*columns()).where(
                records.c.tenant_id == sa.bindparam("tenant_id"),
                records.c.object_id == self.obj.id,
                records.c.id == sa.bindparam("record_id"),
            )
            if not include_deleted:
                query = query.where(records.c.deleted_at.is_(None))
            return query.with_for_update() if for_update else query

        query = self.schema.statements.get(
            StatementKey(Statement.RECORD_ROW, self.obj.id, (kind, include_deleted, for_update)),
            build,
        )
        row = driver_execute(
            self.connection,
            query,
            {"tenant_id": self.actor.tenant_id, "record_id": parse_record_id(record_id)},
        ).fetchone()
        if row is None:
            raise NotFound(f"No {self.obj.api_name} record {record_id}.")
        return row

    # -- writing -------------------------------------------------------------------------
    def create(self, values: Any) -> SavedRecord:
        context = RuleContext(self.connection, self.actor, self.schema)
        return self._insert([self._prepare(values, context)])[0]

    def create_many(self, items: list[Any]) -> list[SavedRecord | TrellisError]:
        """Create several records: each item's record, or the error that refused it.

        Every item is checked first, each failure its own; the valid ones are then
        written together in one statement. A failure the checks cannot foresee
        (a database constraint) raises, for the caller to roll back."""
        unique_in_batch: set[tuple[str, str]] = set()
        context = RuleContext(self.connection, self.actor, self.schema)
        prepared: list[dict[str, Any] | TrellisError] = []
        for values in items:
            try:
                prepared.append(self._prepare(values, context, unique_in_batch))
            except TrellisError as error:
                prepared.append(error)
        saved = iter(self._insert([p for p in prepared if not isinstance(p, TrellisError)]))
        return [p if isinstance(p, TrellisError) else next(saved) for p in prepared]

    def _prepare(
        self, values: Any, context: RuleContext, unique_in_batch: set[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """A new record's row, checked and complete, not yet written. The records of one
        request share ``context`` (its clock and the related records it has read)."""
        data, system = normalize_values(
            self.obj, values, prior=None, system_actor=self.actor.user_id is None
        )
        sent = set(data)
        apply_defaults(self.obj, data)
        apply_default_formulas(context, self.obj, data)
        data = {name: value for name, value in data.items() if not is_blank(value)}
        owner_id = self._owner(system.get("owner_id", self.actor.user_id))
        view_system = {
            "owner_id": owner_id,
            "created_by": self.actor.user_id,
            "updated_by": self.actor.user_id,
        }
        self._before_save(context, "record.created", data, None, view_system)
        enforce(context, self.obj, data, None, sent, view_system, required_errors(self.obj, data))
        record_id = uuid.uuid4()
        self._check_references(data, record_id)
        self._check_unique(data, record_id, unique_in_batch)
        data.update(self._auto_numbers())  # last: a refused record takes no number
        return {"id": record_id, "data": data, "owner_id": owner_id}

    def _before_save(
        self,
        context: RuleContext,
        event_type: str,
        data: dict[str, Any],
        prior: dict[str, Any] | None,
        system: dict[str, Any],
    ) -> set[str]:
        """Announce a record about to be saved (the record lifecycle hook): before-save
        automations and plugins change ``data`` in place; return the fields they changed."""
        hooks = self.schema.hooks
        if hooks is None:
            return set()
        changed: set[str] = set()
        for names in hooks.before_record_save(
            context=context,
            obj=self.obj,
            event_type=event_type,
            data=data,
            prior=prior,
            system=system,
        ):
            changed |= names or set()
        return changed

    def _insert(self, new: list[dict[str, Any]]) -> list[SavedRecord]:
        """Write prepared records, their history and their events: one statement."""
        if not new:
            return []
        statement = self.schema.statements.get(
            StatementKey(Statement.CREATE, self.obj.id),
            lambda: create_statement(
                self._json(), tuple(field.api_name for field in self.obj.lookups())
            ),
        )
        saved = {
            row.id: row.json
            for row in driver_execute(
                self.connection,
                statement,
                {
                    **self._log_parameters(),
                    "id": [row["id"] for row in new],
                    "data": [Jsonb(row["data"]) for row in new],
                    "owner_id": [row["owner_id"] for row in new],
                },
            )
        }
        return [SavedRecord(saved[row["id"]]) for row in new]

    def update(
        self, record_id: Any, values: Any, *, expected_version: int | None = None
    ) -> SavedRecord:
        current = self._row(record_id, for_update=True)
        self._check_version(current, expected_version)
        prior = current.data
        changed, system = normalize_values(
            self.obj, values, prior=prior, system_actor=self.actor.user_id is None
        )
        merged = {**prior, **changed}
        merged = {name: value for name, value in merged.items() if not is_blank(value)}
        context = RuleContext(self.connection, self.actor, self.schema)
        view_system = {"id": current.id, "owner_id": current.owner_id, "version": current.version}
        automated = self._before_save(context, "record.updated", merged, prior, view_system)
        enforce(
            context,
            self.obj,
            merged,
            prior,
            set(changed),
            view_system,
            required_errors(self.obj, merged),
        )
        changes = {
            name: [prior.get(name), merged.get(name)]
            for name in {*changed, *automated}
            if prior.get(name) != merged.get(name)
        }
        updates: dict[str, Any] = {}
        if "owner_id" in system and str(system["owner_id"]) != str(current.owner_id):
            updates["owner_id"] = self._owner(system["owner_id"])
        if not changes and not updates:
            return self.get(current.id)
        new_values = {name: merged.get(name) for name in changes if name in self.obj.fields}
        self._check_references(new_values, current.id)
        self._check_unique(new_values, current.id)
        row = self.connection.execute(
            records.update()
            .where(records.c.tenant_id == self.actor.tenant_id, records.c.id == current.id)
            .values(
                data=merged,
                version=records.c.version + 1,
                updated_at=sa.func.now(),
                updated_by=self.actor.user_id,
                **updates,
            )
            .returning(self._json())
        ).scalar_one()
        self._sync_refs(current.id, prior, merged)
        if "owner_id" in updates:
            changes["owner_id"] = [None, str(updates["owner_id"])]
        self._log(current.id, "updated", changes, record=merged, prior=prior)
        return SavedRecord(row)

    def delete(
        self,
        record_id: Any,
        *,
        expected_version: int | None = None,
        _depth: int = 0,
        _cascade_from: uuid.UUID | None = None,
    ) -> None:
        """Soft-delete (recycle bin), applying each referencing lookup's ``on_delete``."""
        current = self._row(record_id, for_update=True)
        self._check_version(current, expected_version)
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
        current = self._row(record_id, include_deleted=True, for_update=True)
        if current.deleted_at is None:
            raise Conflict("The record is not deleted.")
        self._check_unique({name: current.data.get(name) for name in self.obj.fields}, current.id)
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

    # -- rules ---------------------------------------------------------------------------
    def _check_version(self, row: sa.Row, expected: int | None) -> None:
        if expected is not None and row.version != expected:
            raise PreconditionFailed(
                f"The record changed since you read it (now version {row.version}); "
                "reload and retry.",
                code="stale_version",
            )

    def _owner(self, owner_id: Any) -> uuid.UUID | None:
        if owner_id is None:
            return None
        if owner_id == self.actor.user_id:
            return owner_id  # authentication already found this user, active
        try:
            parsed = uuid.UUID(str(owner_id))
        except ValueError:
            raise ValidationError("Invalid owner.", fields={"owner_id": "Not a user id."}) from None
        exists = self.connection.execute(
            sa.select(users.c.id).where(
                users.c.tenant_id == self.actor.tenant_id, users.c.id == parsed
            )
        ).first()
        if exists is None:
            raise ValidationError("Invalid owner.", fields={"owner_id": "No such user."})
        return parsed

    def _check_references(self, values: Mapping[str, Any], record_id: uuid.UUID) -> None:
        errors = {}
        for field in self.obj.lookups():
            target_id = values.get(field.api_name)
            if target_id is None:
                continue
            target = self.schema.object(field.definition["target"])
            found = self.connection.execute(
                sa.select(records.c.id).where(
                    records.c.tenant_id == self.actor.tenant_id,
                    records.c.object_id == target.id,
                    records.c.id == uuid.UUID(target_id),
                    records.c.deleted_at.is_(None),
                )
            ).first()
            if found is None:
                errors[field.api_name] = [f"No {target.api_name} record {target_id}."]
        if errors:
            raise ValidationError("Some lookups point nowhere.", fields=errors)

    def _check_unique(
        self,
        values: Mapping[str, Any],
        record_id: uuid.UUID,
        unique_in_batch: set[tuple[str, str]] | None = None,
    ) -> None:
        """Refuse values a unique field already holds (in the table, or earlier in the same
        batch, whose records are not written yet)."""
        errors, claimed = {}, []
        for field in self.obj.writes.unique:
            name, value = field.api_name, values.get(field.api_name)
            if value is None:
                continue
            # Serialise writers of the same value; the unique partial index backs this up
            # once it is built, but the check must hold while it is still building.
            lock_key = f"unique:{self.obj.id}:{name}:{json.dumps(value)}"
            self.connection.execute(
                sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(lock_key, 0)))
            )
            stored = sa.literal_column(field.stored_text_expression, sa.Text)
            clash = self.connection.execute(
                sa.select(records.c.id)
                .where(
                    records.c.tenant_id == self.actor.tenant_id,
                    records.c.object_id == self.obj.id,
                    records.c.deleted_at.is_(None),
                    records.c.id != record_id,
                    stored == _stored_text(value),
                )
                .limit(1)
            ).first()
            key = (name, _stored_text(value))
            if clash is not None or key in (unique_in_batch or ()):
                errors[name] = [f"Another {self.obj.api_name} already has this value."]
            claimed.append(key)
        if errors:
            raise ValidationError(
                "Some values must be unique.", fields=errors, code="duplicate_value"
            )
        if unique_in_batch is not None:
            unique_in_batch.update(claimed)

    def _auto_numbers(self) -> dict[str, str]:
        numbers = {}
        for field in self.obj.writes.auto_numbers:
            name = field.api_name
            start = field.type.sequence_start(field.definition)
            # The counter row stays locked until commit, so concurrent creators queue
            # here and a rolled-back create gives its number back: no gaps.
            statement = pg_insert(auto_number_counters).values(
                tenant_id=self.actor.tenant_id, object_id=self.obj.id, field=name, last_value=start
            )
            value = self.connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["tenant_id", "object_id", "field"],
                    set_={"last_value": auto_number_counters.c.last_value + 1},
                ).returning(auto_number_counters.c.last_value)
            ).scalar_one()
            numbers[name] = field.type.format_sequence(field.definition, value)
        return numbers

    def _sync_refs(
        self, record_id: uuid.UUID, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        """Replace the ``record_refs`` rows of the lookups an update changed (a create
        writes its own, see writes.create_statement)."""
        for field in self.obj.lookups():
            name = field.api_name
            if before.get(name) == after.get(name):
                continue
            self.connection.execute(
                record_refs.delete().where(
                    record_refs.c.tenant_id == self.actor.tenant_id,
                    record_refs.c.source_id == record_id,
                    record_refs.c.field == name,
                )
            )
            if after.get(name) is not None:
                self.connection.execute(
                    record_refs.insert().values(
                        tenant_id=self.actor.tenant_id,
                        source_id=record_id,
                        field=name,
                        target_id=uuid.UUID(after[name]),
                        source_object_id=self.obj.id,
                    )
                )

    def _apply_on_delete(self, record_id: uuid.UUID, depth: int) -> None:
        if depth > MAX_CASCADE_DEPTH:
            raise Conflict("Deleting this record would cascade too deep.")
        for source, field in self.schema.referencing_lookups(self.obj.api_name):
            referencing = list(
                self.connection.execute(
                    sa.select(records.c.id)
                    .join(
                        record_refs,
                        sa.and_(
                            record_refs.c.tenant_id == records.c.tenant_id,
                            record_refs.c.source_id == records.c.id,
                        ),
                    )
                    .where(
                        record_refs.c.tenant_id == self.actor.tenant_id,
                        record_refs.c.target_id == record_id,
                        record_refs.c.field == field.api_name,
                        records.c.object_id == source.id,
                        records.c.deleted_at.is_(None),
                    )
                ).scalars()
            )
            if not referencing:
                continue
            action = field.definition.get("on_delete", "set_null")
            service = RecordService(self.connection, self.actor, self.schema, source)
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


def parse_record_id(record_id: Any) -> uuid.UUID:
    try:
        return record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound(f"No record {record_id}.") from None


def _stored_text(value: Any) -> str:
    """What ``data->>'field'`` yields for a stored JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)
