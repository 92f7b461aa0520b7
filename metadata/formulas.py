"""The formula language applied to an object's metadata: the map of field paths to types
(cross-object paths through lookups and ``Owner`` included), compiled formulas, and the SQL
resolver that makes formula fields, roll-ups and ``where=`` filters run in PostgreSQL over the
JSONB records, reading the acting user's ``$``-globals from the statement's parameters.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from trellis.errors import ValidationError
from trellis.metadata.acting_user import BUILT_IN_USER_GLOBALS, PARAMETER_GLOBALS, actor_user
from trellis.metadata.compiled import SYSTEM_COLUMNS, CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.user_paths import OWNER_COLUMN, OWNER_PATH, owner_target, user_object
from trellis.rule_engine import CompiledFormula, FunctionRegistry, compile_formula

MAX_PATH_DEPTH = 2  # Account.Owner.Email: two hops
# The reader's access condition on a related record (an object's records under an
# alias), or None where they may read every one: a formula reaching a parent or
# summing children shows only what the reader may see (trellis.access.gate builds it).
Gate = Callable[[ObjectSchema, str], "sa.ColumnElement[bool] | None"]
SQL_TYPES: dict[str, sa.types.TypeEngine] = {
    "text": sa.Text(),
    "numeric": sa.Numeric(),
    "boolean": sa.Boolean(),
    "date": sa.Date(),
    "timestamptz": sa.DateTime(timezone=True),
    "time": sa.Time(),
    "jsonb": JSONB(),
    "uuid": sa.Uuid(),
}


@dataclasses.dataclass(frozen=True)
class PathStep:
    """One name of a field path: the object it is read on and the field it names there;
    ``field`` is None for a system column (the last name only) and for ``Owner`` (the
    owner's User record, through the ``owner_id`` column)."""

    obj: ObjectSchema
    name: str  # the field's api_name, or the system column, as spelled in metadata
    field: CompiledField | None


class UnknownPath(ValueError):
    """A path that names no field, goes on from a field that is not a lookup, or is deeper
    than :data:`MAX_PATH_DEPTH`; the message says which."""


class PathTooDeep(UnknownPath):
    """A path through more lookups than :data:`MAX_PATH_DEPTH` (known before any name is
    looked up, so saying so reveals nothing about the fields)."""


def resolve_path(
    schema: TenantSchema, obj: ObjectSchema, path: str, depth: int = MAX_PATH_DEPTH
) -> tuple[PathStep, ...]:
    """The steps of ``Account.Owner.Email`` read from ``obj`` (names case-insensitive):
    every name but the last a lookup, at most ``depth`` of them, the last a field or system
    column of the record reached. These are the paths a formula may read
    (:func:`field_types`); the SQL that reads them is :meth:`SqlResolver.related`."""
    names = path.split(".")
    if len(names) > depth + 1:
        raise PathTooDeep(f"a path goes through at most {depth} lookups")
    steps: list[PathStep] = []
    current = obj
    for index, name in enumerate(names):
        if index == len(names) - 1 and name.lower() in SYSTEM_COLUMNS:
            steps.append(PathStep(current, name.lower(), None))
            break
        owner = owner_target(schema, current) if index < len(names) - 1 else None
        if owner is not None and name.lower() == OWNER_PATH.lower():
            # The owner's User record, through the owner_id system column.
            steps.append(PathStep(current, OWNER_PATH, None))
            current = owner
            continue
        field = current.find(name)
        if field is None:
            raise UnknownPath(f"{current.api_name} has no field {name!r}")
        steps.append(PathStep(current, field.api_name, field))
        if index < len(names) - 1:
            target = schema.objects.get(str(field.definition.get("target", "")).lower())
            if not field.type.references_records or target is None:
                raise UnknownPath(f"{current.api_name}.{field.api_name} is not a lookup")
            current = target
    return tuple(steps)


def field_types(
    schema: TenantSchema, obj: ObjectSchema, depth: int = MAX_PATH_DEPTH
) -> dict[str, str]:
    """Every path a formula on ``obj`` may read, with its formula type."""
    types: dict[str, str] = {}

    def walk(current: ObjectSchema, prefix: str, level: int) -> None:
        for name, field in current.fields.items():
            types[prefix + name] = field.type.formula_type(field.definition)
            if field.type.references_records and level < depth:
                target = schema.objects.get(field.definition["target"].lower())
                if target is not None:
                    walk(target, f"{prefix}{name}.", level + 1)
        owner = owner_target(schema, current)
        if owner is not None and level < depth:
            walk(owner, f"{prefix}{OWNER_PATH}.", level + 1)
        if prefix:
            types[prefix + "id"] = "lookup"

    walk(obj, "", 0)
    return types


class FormulaCompiler:
    """Compiles formulas for one tenant's metadata; results are cached per revision."""

    def __init__(self, schema: TenantSchema, functions: FunctionRegistry | None) -> None:
        self.schema = schema
        self.functions = functions
        self._types: dict[str, dict[str, str]] = {}
        self._cache: dict[tuple, CompiledFormula] = {}
        self._globals: dict[str, str] | None = None

    def types(self, obj: ObjectSchema) -> dict[str, str]:
        if obj.api_name not in self._types:
            self._types[obj.api_name] = field_types(self.schema, obj)
        return self._types[obj.api_name]

    def compile(
        self,
        obj: ObjectSchema,
        source: str,
        *,
        expected_type: str | None = None,
        blank_mode: str = "blank",
        allow_prior: bool = True,
    ) -> CompiledFormula:
        key = (obj.api_name, source, expected_type, blank_mode, allow_prior)
        if key not in self._cache:
            self._cache[key] = compile_formula(
                source,
                fields=self.types(obj),
                blank_mode=blank_mode,
                expected_type=expected_type,
                functions=self.functions,
                allow_prior=allow_prior,
                global_types=self.global_types(),
            )
        return self._cache[key]

    def global_types(self) -> dict[str, str]:
        """``$User.<Field>`` for every field of the platform's User object (its records
        are the users; see trellis.records.users), beside the built-in globals."""
        if self._globals is None:
            user = user_object(self.schema)
            self._globals = (
                {
                    f"$User.{name}": field.type.formula_type(field.definition)
                    for name, field in user.fields.items()
                    if name not in BUILT_IN_USER_GLOBALS  # from the account
                }
                if user is not None
                else {}
            )
        return self._globals

    def field_formula(self, obj: ObjectSchema, field: CompiledField) -> CompiledFormula:
        definition = field.definition
        return self.compile(
            obj,
            definition["expression"],
            expected_type=definition["return_type"],
            blank_mode=definition.get("blank_mode", "blank"),
            allow_prior=False,
        )

    def sql(
        self,
        obj: ObjectSchema,
        tenant_id: uuid.UUID,
        table: str = "records",
        gate: Gate | None = None,
    ) -> SqlResolver:
        return SqlResolver(self, obj, tenant_id, table, gate=gate)


class SqlResolver:
    """Resolves field paths to typed SQL over ``table``'s row for the SQL compiler."""

    def __init__(
        self,
        compiler: FormulaCompiler,
        obj: ObjectSchema,
        tenant_id: uuid.UUID,
        table: str,
        depth: int = 0,
        stack: tuple[str, ...] = (),
        gate: Gate | None = None,
    ) -> None:
        self.compiler = compiler
        self.obj = obj
        self.tenant = uuid.UUID(str(tenant_id))  # inlined: partial indexes need literals
        self.table = table
        self.depth = depth
        self.stack = stack
        self.gate = gate

    def _nested(
        self, obj: ObjectSchema, table: str, depth: int, stack: tuple[str, ...]
    ) -> SqlResolver:
        return SqlResolver(self.compiler, obj, self.tenant, table, depth, stack, self.gate)

    def _gated(self, obj: ObjectSchema, alias: str) -> list[sa.ColumnElement]:
        """The reader's access condition on a related record (none when unrestricted)."""
        condition = self.gate(obj, alias) if self.gate is not None else None
        return [] if condition is None else [condition]

    def related(self, name: str) -> tuple[SqlResolver, list[Any]]:
        """The record a lookup of this row (or its ``Owner``, the owner's User record)
        points at: a resolver over it (as ``ref_<n>``, one deeper than this row) and the
        conditions that find it, the reader's access gate included. Cross-object paths
        and record expansions read it this way."""
        target, key = self.related_key(name)
        alias = f"ref_{self.depth + 1}"
        condition = sa.text(
            f"{alias}.tenant_id = '{self.tenant}' AND {alias}.object_id = '{target.id}' "
            f"AND {alias}.deleted_at IS NULL AND {alias}.id = {key}"
        )
        nested = self._nested(target, alias, self.depth + 1, self.stack)
        conditions: list[Any] = [condition, *self._gated(target, alias)]
        return nested, conditions

    def related_key(self, name: str) -> tuple[ObjectSchema, str]:
        """The object a lookup (or ``Owner``) of this row points at, and the SQL of the
        related record's id over this row (NULL when the lookup is blank)."""
        owner = owner_target(self.compiler.schema, self.obj)
        if owner is not None and name.lower() == OWNER_PATH.lower():
            return owner, f"{self.table}.{OWNER_COLUMN}"
        lookup = self.obj.field(name)
        target = self.compiler.schema.object(lookup.definition["target"])
        return target, f"({self.table}.data->>'{lookup.api_name}')::uuid"

    def __call__(self, path: str) -> sa.ColumnElement:
        if path.startswith("$"):
            return self.global_value(path)
        head, _, rest = path.partition(".")
        if not rest:
            return self.field(head)
        related, conditions = self.related(head)
        return (
            sa.select(related(rest))
            .select_from(sa.text(f"records AS {related.table}"))
            .where(*conditions)
            .scalar_subquery()
        )

    def global_value(self, name: str) -> sa.ColumnElement:
        """A ``$``-global (by its declared name) over the statement's actor parameters
        (trellis.metadata.acting_user); ``$User.<Field>`` reads the acting user's User
        record, which is theirs to read whatever the gate says of other records."""
        if name == "$User.Id":
            return sa.cast(actor_user(), sa.Text)
        if name in PARAMETER_GLOBALS:
            return sa.bindparam(PARAMETER_GLOBALS[name], None, type_=sa.Text)
        if name == "$Organization.Id":
            return sa.literal(str(self.tenant), sa.Text)
        group, _, field_name = name.partition(".")
        user = user_object(self.compiler.schema)
        field = user.find(field_name) if user is not None and group == "$User" else None
        if user is None or field is None:
            return sa.cast(sa.null(), sa.Text)  # declared, but nobody's: blank, as in Python
        alias = f"user_{self.depth + 1}"
        value = self._nested(user, alias, self.depth + 1, self.stack).field(field.api_name)
        if field.type.formula_type(field.definition) == "checkbox":
            value = sa.func.coalesce(value, sa.false())  # as RecordView gives it: never blank
        condition = sa.text(
            f"{alias}.tenant_id = '{self.tenant}' AND {alias}.object_id = '{user.id}' "
            f"AND {alias}.deleted_at IS NULL"
        )
        return (
            sa.select(value)
            .select_from(sa.text(f"records AS {alias}"))
            .where(condition, sa.literal_column(f"{alias}.id") == actor_user())
            .scalar_subquery()
        )

    def field(self, name: str) -> sa.ColumnElement:
        if name in SYSTEM_COLUMNS:
            column, sql_type = SYSTEM_COLUMNS[name]
            expression = sa.literal_column(f"{self.table}.{column}", SQL_TYPES[sql_type])
            return sa.cast(expression, sa.Text) if sql_type == "uuid" else expression
        field = self.obj.field(name)
        if not field.type.stored:
            return self.rollup(field) if field.type.aggregates else self.formula(field)
        return sa.literal_column(
            field.stored_expression(self.table), SQL_TYPES[field.sql_type or "text"]
        )

    def formula(self, field: CompiledField) -> sa.ColumnElement:
        key = f"{self.obj.api_name}.{field.api_name}"
        if key in self.stack:
            raise ValidationError(
                "Formula fields refer to each other in a circle.",
                fields={f"fields.{field.api_name}.expression": [" → ".join((*self.stack, key))]},
            )
        formula = self.compiler.field_formula(self.obj, field)
        inner = self._nested(self.obj, self.table, self.depth, (*self.stack, key))
        expression = formula.to_sql(inner)
        return finish_number(expression, field.definition)

    def rollup(self, field: CompiledField) -> sa.ColumnElement:
        definition = field.definition
        child = self.compiler.schema.object(definition["summarized_object"])
        relation = child.field(definition["relationship_field"])
        alias = f"child_{self.depth + 1}"
        resolver = self._nested(child, alias, self.depth + 1, self.stack)
        function = definition["function"].upper()
        if function == "COUNT":
            aggregate = sa.func.count()
        else:
            value = resolver(child.field(definition["summarized_field"]).api_name)
            aggregate = getattr(sa.func, function.lower())(value)
        conditions: list[Any] = [
            sa.text(
                f"{alias}.tenant_id = '{self.tenant}' AND {alias}.object_id = '{child.id}' "
                f"AND {alias}.deleted_at IS NULL "
                f"AND ({alias}.data->>'{relation.api_name}') = {self.table}.id::text"
            ),
            *self._gated(child, alias),
        ]
        if definition.get("filter"):
            condition = self.compiler.compile(
                child, definition["filter"], expected_type="checkbox", allow_prior=False
            )
            conditions.append(condition.to_sql_condition(resolver))
        query = (
            sa.select(aggregate)
            .select_from(sa.text(f"records AS {alias}"))
            .where(*conditions)
            .scalar_subquery()
        )
        if function in {"COUNT", "SUM"}:
            return sa.func.coalesce(query, 0)
        return query


def finish_number(expression: sa.ColumnElement, definition: dict[str, Any]) -> Any:
    """Percent results are stored as shown (25 for 25%); numbers round to their scale."""
    if definition.get("return_type") == "percent":
        expression = expression * 100
    if definition.get("return_type") in {"number", "currency", "percent"}:
        expression = sa.func.round(expression, int(definition.get("scale", 2)))
    return expression
