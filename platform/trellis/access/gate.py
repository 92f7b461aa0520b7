"""The access gate: (actor, object, operation) as one SQL predicate over a records row.

Every read path adds the predicate to its own statement (list pages, counts, cursors,
``where=`` filters, related lists, roll-ups and cross-object formula references), so a
page, its count and its cursor are right without fetching and filtering; single reads
and writes use the same predicate. Without the read right on an object no record of it
passes a read, however it is reached (a roll-up, a formula, a ``where=`` path).
Otherwise a record passes when:

- the actor may bypass sharing on its object (administrator, view all for reads, modify
  all for every operation), or the object's org-wide default opens the operation to all
  (``read`` opens reads, ``read_write`` opens everything); otherwise
- the actor or someone below them in the role hierarchy owns it, or
- (for reads and edits) a share grants one of the principals the actor reaches at least
  the access needed; shares never grant delete;
- a ``controlled_by_parent`` record passes when its parent record does (edit on the
  parent for edits and deletes).

The predicate reads the actor's row of ``access_closure`` by the ``access_user``
parameter, so one statement serves every user with the same rights: the statement
caches key on :attr:`Access.shape`, and callers pass :attr:`Access.parameters`.
Tenant ids are written into the SQL, as the list path's partial indexes need.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.rights import Rights
from trellis.actor import Actor
from trellis.errors import Forbidden
from trellis.metadata.acting_user import actor_parameters, actor_user
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.formulas import PathStep
from trellis.metadata.statements import Statement, StatementCache, StatementKey

OPERATIONS = ("read", "edit", "delete")
# The records column holding the principals shared at least the access an operation needs.
SHARED_COLUMN = {"read": "shared_read", "edit": "shared_edit"}
# The parent of a controlled-by-parent record is checked for edit when its detail changes.
PARENT_OPERATION = {"read": "read", "edit": "edit", "delete": "edit"}
MAX_PARENT_DEPTH = 5


def sharing_model(obj: ObjectSchema) -> str:
    return str(obj.definition.get("sharing_model", "read_write"))


@dataclasses.dataclass
class Access:
    """What one actor may reach, for one metadata revision."""

    actor: Actor
    schema: TenantSchema
    rights: Rights
    _shape: tuple[Any, ...] | None = None

    @classmethod
    def of(cls, actor: Actor, schema: TenantSchema) -> Access:
        return cls(actor, schema, Rights.of(actor, schema.access))

    @classmethod
    def unrestricted(cls, actor: Actor, schema: TenantSchema) -> Access:
        """Every right: for work an allowed change entails (a delete's cascade)."""
        return cls(actor, schema, Rights(True, ()))

    @property
    def everything(self) -> bool:
        return self.rights.everything

    @property
    def parameters(self) -> dict[str, Any]:
        """The values of the statements' actor parameters: the gate's, and the acting
        user's ``$``-globals that formulas computed in the statement read."""
        return actor_parameters(self.actor)

    def bypasses(self, obj: ObjectSchema, operation: str) -> bool:
        """Whether sharing does not apply to ``operation`` on ``obj`` for this actor."""
        if self.everything or self.rights.has(obj.api_name, "modify_all"):
            return True
        if operation == "read" and self.rights.has(obj.api_name, "view_all"):
            return True
        model = sharing_model(obj)
        return model == "read_write" or (model == "read" and operation == "read")

    def predicate(
        self, obj: ObjectSchema, operation: str, alias: str = "records"
    ) -> sa.ColumnElement[bool] | None:
        """The SQL condition over ``alias`` (a records row of ``obj``) that passes exactly
        the records the actor may ``operation``; None when every record passes."""
        if operation == "read" and not self.rights.has(obj.api_name, "read"):
            return sa.false()
        sql = self._sql(obj, operation, alias, 0)
        if sql is None:
            return None
        bound = sa.text(sql).bindparams(actor_user())
        return bound  # type: ignore[return-value]  # a text clause used as a condition

    def readable(self, obj: ObjectSchema, alias: str) -> sa.ColumnElement[bool] | None:
        """The read predicate over ``alias``, as metadata.formulas' ``Gate``: what
        formulas, roll-ups and ``where=`` filters apply to the related records they reach."""
        return self.predicate(obj, "read", alias)

    def _sql(self, obj: ObjectSchema, operation: str, alias: str, depth: int) -> str | None:
        if self.bypasses(obj, operation):
            return None
        tenant = self.actor.tenant_id
        if sharing_model(obj) == "controlled_by_parent":
            return self._parent_sql(obj, operation, alias, depth)
        closure = (
            f"(SELECT c.{{column}} FROM access_closure c WHERE c.tenant_id = '{tenant}' "
            "AND c.user_id = :access_user)"
        )
        # A user whose closure was never built (new, with no role or group yet) still
        # reaches their own records and what is shared with them directly. The owners
        # are a set (a hashed subplan), not ``= ANY(array)``: PostgreSQL searches an
        # array parameter linearly for every row, which made a count over 1M records
        # for a user above 100 owners take twice as long (benchmarks/access_bench.py).
        owners = closure.format(column="owners").replace("c.owners", "unnest(c.owners)", 1)
        owned = f"{alias}.owner_id = :access_user OR {alias}.owner_id IN {owners}"
        if operation == "delete":
            return f"({owned})"
        principals = (
            f"coalesce({closure.format(column='principals')}, "
            "ARRAY['user:' || CAST(:access_user AS text)])"
        )
        # The record's share principals are on its row (migration 0011): an overlap
        # of two short arrays, where a probe of record_shares per row made a rep's page
        # three times an administrator's (benchmarks/access_bench.py).
        shared = f"{alias}.{SHARED_COLUMN[operation]} && {principals}"
        return f"({owned} OR {shared})"

    def _parent_sql(self, obj: ObjectSchema, operation: str, alias: str, depth: int) -> str | None:
        """A detail record passes when its parent (the ``sharing_parent`` lookup) does."""
        if depth >= MAX_PARENT_DEPTH:
            return "false"
        lookup = obj.field(str(obj.definition["sharing_parent"]))
        parent = self.schema.object(lookup.definition["target"])
        parent_alias = f"gate_parent_{depth + 1}"
        inner = self._sql(parent, PARENT_OPERATION[operation], parent_alias, depth + 1)
        if inner is None:
            return None
        return (
            f"EXISTS (SELECT FROM records {parent_alias} "
            f"WHERE {parent_alias}.tenant_id = '{self.actor.tenant_id}' "
            f"AND {parent_alias}.object_id = '{parent.id}' "
            f"AND {parent_alias}.deleted_at IS NULL "
            f"AND {parent_alias}.id = ({alias}.data->>'{lookup.api_name}')::uuid "
            f"AND {inner})"
        )

    def visible_schema(self) -> TenantSchema:
        """The metadata as this actor may know it, for documents that describe it (the
        OpenAPI document): only objects they may read, without the fields field-level
        security hides. Its statements are its own: nothing built for the whole schema
        is shared with it."""
        if self.everything:
            return self.schema
        objects = {}
        for key, obj in self.schema.objects.items():
            if not self.rights.has(obj.api_name, "read"):
                continue
            hidden = self.unreadable_fields(obj)
            if hidden:
                fields = {name: f for name, f in obj.fields.items() if name not in hidden}
                lower = {name.lower(): name for name in fields}
                obj = dataclasses.replace(obj, fields=fields, _by_lower=lower)
            objects[key] = obj
        return dataclasses.replace(
            self.schema, objects=objects, statements=StatementCache(), _formulas=None
        )

    def permits(
        self, connection: Connection, obj: ObjectSchema, record_id: uuid.UUID, operation: str
    ) -> bool:
        """Whether the actor may ``operation`` (read, edit, delete) one record: the
        object right, then the same predicate every read path uses."""
        if not self.rights.has(obj.api_name, operation):
            return False
        predicate = self.predicate(obj, operation)
        if predicate is None:
            return True
        query = (
            sa.select(sa.literal(True))
            .select_from(sa.text("records"))
            .where(sa.text("records.id = :record"), predicate)
        )
        return bool(connection.execute(query, {"record": record_id, **self.parameters}).scalar())

    def unreadable_fields(self, obj: ObjectSchema) -> frozenset[str]:
        """The fields of ``obj`` field-level security hides from the actor."""
        return self.rights.unreadable(obj.api_name, obj.fields)

    def can_read_path(self, steps: Iterable[PathStep]) -> bool:
        """Whether field-level security lets the actor read every field along a path
        (``Deal.Account.Name``): a hidden field of a related record is as unknown to them
        as one of the record itself. System columns are readable by all."""
        return all(
            step.field is None or step.name not in self.unreadable_fields(step.obj)
            for step in steps
        )

    def can_edit_field(self, obj: ObjectSchema, name: str) -> bool:
        return "edit" in self.rights.on_field(obj.api_name, name)

    def check_field_edits(self, obj: ObjectSchema, names: Iterable[str]) -> None:
        """Refuse values for fields field-level security keeps the actor from editing."""
        refused = {
            name: "You may not edit this field."
            for name in names
            if name in obj.fields and not self.can_edit_field(obj, name)
        }
        if refused:
            raise Forbidden(
                "Some fields cannot be edited by you.", code="field_not_editable", fields=refused
            )

    @property
    def shape(self) -> tuple[Any, ...]:
        """What this actor's statements restrict: equal for every actor with the same
        rights in this revision, so they share cached statements."""
        if self._shape is None:
            if self.everything:
                self._shape = ("everything",)
            else:
                names = tuple(sorted({name.lower() for name in self.actor.permission_sets}))
                self._shape = self.schema.statements.get(
                    StatementKey(Statement.ACCESS_SHAPE, uuid.UUID(int=0), names),
                    self._compute_shape,
                )
        return self._shape

    def _compute_shape(self) -> tuple[Any, ...]:
        restricted = tuple(
            (obj.api_name, operation)
            for obj in self.schema.objects.values()
            for operation in OPERATIONS
            if not self.bypasses(obj, operation)
        )
        hidden = tuple(
            (obj.api_name, tuple(sorted(self.unreadable_fields(obj))))
            for obj in self.schema.objects.values()
            if self.unreadable_fields(obj)
        )
        unreadable = tuple(
            obj.api_name
            for obj in self.schema.objects.values()
            if not self.rights.has(obj.api_name, "read")
        )
        return ("restricted", restricted, hidden, unreadable)
