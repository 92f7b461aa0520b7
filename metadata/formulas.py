"""The formula language applied to an object's metadata.

One place turns metadata into what the engine needs: the map of field paths to
types (cross-object paths through lookups included), compiled formulas, and the
SQL resolver that makes formula fields, roll-ups and ``where=`` filters run in
PostgreSQL over the JSONB records.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from trellis.errors import TrellisError, ValidationError
from trellis.metadata.compiled import SYSTEM_COLUMNS, CompiledField, ObjectSchema, TenantSchema
from trellis.rule_engine import (
    CompiledFormula,
    FormulaError,
    FunctionRegistry,
    compile_formula,
    kinds,
)

MAX_PATH_DEPTH = 2  # Account.Owner.Email: two hops
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
            )
        return self._cache[key]

    def field_formula(self, obj: ObjectSchema, field: CompiledField) -> CompiledFormula:
        definition = field.definition
        return self.compile(
            obj,
            definition["expression"],
            expected_type=definition["return_type"],
            blank_mode=definition.get("blank_mode", "blank"),
            allow_prior=False,
        )

    def sql(self, obj: ObjectSchema, tenant_id: uuid.UUID, table: str = "records") -> SqlResolver:
        return SqlResolver(self, obj, tenant_id, table)


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
    ) -> None:
        self.compiler = compiler
        self.obj = obj
        self.tenant = uuid.UUID(str(tenant_id))  # inlined: partial indexes need literals
        self.table = table
        self.depth = depth
        self.stack = stack

    def __call__(self, path: str) -> sa.ColumnElement:
        head, _, rest = path.partition(".")
        if not rest:
            return self.field(head)
        lookup = self.obj.field(head)
        target = self.compiler.schema.object(lookup.definition["target"])
        alias = f"ref_{self.depth + 1}"
        inner = SqlResolver(self.compiler, target, self.tenant, alias, self.depth + 1, self.stack)(
            rest
        )
        condition = sa.text(
            f"{alias}.tenant_id = '{self.tenant}' AND {alias}.object_id = '{target.id}' "
            f"AND {alias}.deleted_at IS NULL "
            f"AND {alias}.id = ({self.table}.data->>'{lookup.api_name}')::uuid"
        )
        return (
            sa.select(inner)
            .select_from(sa.text(f"records AS {alias}"))
            .where(condition)
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
        inner = SqlResolver(
            self.compiler, self.obj, self.tenant, self.table, self.depth, (*self.stack, key)
        )
        expression = formula.to_sql(inner)
        return finish_number(expression, field.definition)

    def rollup(self, field: CompiledField) -> sa.ColumnElement:
        definition = field.definition
        child = self.compiler.schema.object(definition["summarized_object"])
        relation = child.field(definition["relationship_field"])
        alias = f"child_{self.depth + 1}"
        resolver = SqlResolver(self.compiler, child, self.tenant, alias, self.depth + 1, self.stack)
        function = definition["function"].upper()
        if function == "COUNT":
            aggregate = sa.func.count()
        else:
            value = resolver(child.field(definition["summarized_field"]).api_name)
            aggregate = getattr(sa.func, function.lower())(value)
        conditions = [
            sa.text(
                f"{alias}.tenant_id = '{self.tenant}' AND {alias}.object_id = '{child.id}' "
                f"AND {alias}.deleted_at IS NULL "
                f"AND ({alias}.data->>'{relation.api_name}') = {self.table}.id::text"
            )
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


def formula_errors(place: str, error: FormulaError) -> dict[str, list[str]]:
    """A formula error as envelope field errors, position and caret snippet included."""
    snippet = f"\n{error.snippet}" if getattr(error, "snippet", None) else ""
    return {place: [f"{error.message} (line {error.line}, column {error.column}){snippet}"]}


def check_object_formulas(
    compiler: FormulaCompiler, obj: ObjectSchema, saved: ObjectSchema | None = None
) -> None:
    """Compile every formula of ``obj`` (fields, rules, conditions, defaults) or raise.

    ``saved`` is the object as stored: its unchanged automations may keep an action
    type whose plugin has been removed since."""
    errors: dict[str, list[str]] = {}
    checks: list[tuple[str, Callable[[], Any]]] = []
    for field in obj.fields.values():
        place = f"fields.{field.api_name}"
        definition = field.definition
        if not field.type.stored and not field.type.aggregates:
            checks.append(
                (
                    f"{place}.expression",
                    lambda f=field: compiler.sql(obj, uuid.UUID(int=0)).formula(f),
                )
            )
        if field.type.aggregates:
            checks.append(
                (f"{place}.filter", lambda f=field: compiler.sql(obj, uuid.UUID(int=0)).rollup(f))
            )
        for key in ("required_when", "read_only_when", "visible_when"):
            if definition.get(key):
                checks.append(
                    (
                        f"{place}.{key}",
                        lambda s=definition[key]: compiler.compile(
                            obj, s, expected_type="checkbox"
                        ),
                    )
                )
        if definition.get("default_formula"):
            formula_type = field.type.formula_type(definition)
            checks.append(
                (
                    f"{place}.default_formula",
                    lambda s=definition["default_formula"], t=formula_type: compiler.compile(
                        obj, s, expected_type=t, allow_prior=False
                    ),
                )
            )
    hooks = compiler.schema.hooks
    if hooks is not None:
        # Parts of a definition that layers above metadata own (automations) are checked
        # by them, through the same hook a plugin would use.
        for found in hooks.object_definition_checks(compiler=compiler, obj=obj, saved=saved):
            checks.extend(found)
    for rule in obj.definition.get("validation_rules", []):
        checks.append(
            (
                f"validation_rules.{rule['name']}.condition",
                lambda s=rule["condition"]: compiler.compile(obj, s, expected_type="checkbox"),
            )
        )
    for place, check in checks:
        try:
            check()
        except FormulaError as error:
            errors.update(formula_errors(place, error))
        except ValidationError as error:
            for key, messages in error.fields.items():
                errors[key or place] = messages
            if not error.fields:  # a refusal with no field of its own belongs to the place
                errors[place] = [error.message]
        except TrellisError as error:
            errors[place] = [error.message]
    if errors:
        raise ValidationError("Some formulas are invalid.", fields=errors, code="formula_error")


DIRECT_KINDS = {"number", "currency", "percent", "checkbox", "date", "datetime", "time"}


def value_type(field: CompiledField) -> str | None:
    """The formula type a value written into ``field`` must have (text for text-like
    fields; picklist and lookup values are checked when the value is written)."""
    kind = field.type.formula_type(field.definition)
    if field.type.references_records or kind == kinds.MULTI_PICKLIST:
        return None
    return kind if kind in DIRECT_KINDS else "text"


def _fail(message: str) -> Callable[[], Any]:
    def fail() -> Any:
        raise ValidationError(message, fields={"": [message]})

    return fail


def check_formulas(
    schema: TenantSchema, definition: dict[str, Any], object_id: uuid.UUID, registry: Any
) -> None:
    """Check every formula of the tenant as it would be with ``definition`` saved.

    Other objects are checked too: deleting or retyping a field must not break a formula
    elsewhere that reads it through a lookup. Roll-ups get their ``return_type`` from the
    field they summarise (written into ``definition``).
    """
    objects = {
        name: obj for name, obj in schema.objects.items() if name != definition["api_name"].lower()
    }
    provisional = TenantSchema(
        revision=-1,
        objects=objects,
        functions=schema.functions,
        actions=schema.actions,
        hooks=schema.hooks,
    )
    errors = _fill_rollups(provisional, definition, registry)
    if errors:
        raise ValidationError("Some roll-ups are invalid.", fields=errors, code="formula_error")
    changed = ObjectSchema.build(object_id, definition, registry)
    objects[definition["api_name"].lower()] = changed
    compiler = FormulaCompiler(provisional, schema.functions)
    for obj in provisional.objects.values():
        if obj is not changed and not _has_formulas(obj):
            continue
        try:
            check_object_formulas(compiler, obj, schema.objects.get(obj.api_name.lower()))
        except ValidationError as error:
            prefix = "" if obj is changed else f"objects.{obj.api_name}."
            errors.update({prefix + place: messages for place, messages in error.fields.items()})
    if errors:
        raise ValidationError("Some formulas are invalid.", fields=errors, code="formula_error")
    if schema.hooks is not None:
        schema.hooks.check_object_change(
            schema=provisional,
            api_name=changed.api_name,
            saved=schema.objects.get(changed.api_name.lower()),
        )


def _has_formulas(obj: ObjectSchema) -> bool:
    keys = ("required_when", "read_only_when", "visible_when", "default_formula")
    return bool(obj.definition.get("validation_rules") or obj.definition.get("automations")) or any(
        not field.type.stored or any(field.definition.get(key) for key in keys)
        for field in obj.fields.values()
    )


def _fill_rollups(
    schema: TenantSchema, definition: dict[str, Any], registry: Any
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in definition["fields"]:
        field_type = registry.get(field["type"]) if field.get("type") in registry else None
        if field_type is None or not field_type.aggregates or field.get("deleted"):
            continue
        place = f"fields.{field['api_name']}"
        child = schema.objects.get(str(field["summarized_object"]).lower())
        if child is None and field["summarized_object"].lower() == definition["api_name"].lower():
            child = ObjectSchema.build(uuid.UUID(int=0), definition, registry)
        if child is None:
            errors[f"{place}.summarized_object"] = [f"No object {field['summarized_object']!r}."]
            continue
        field["summarized_object"] = child.api_name
        relation = child.find(field["relationship_field"])
        if (
            relation is None
            or not relation.type.references_records
            or relation.definition["target"].lower() != definition["api_name"].lower()
        ):
            errors[f"{place}.relationship_field"] = [
                f"Name a lookup field of {child.api_name} that points at {definition['api_name']}."
            ]
            continue
        field["relationship_field"] = relation.api_name
        field["function"] = field["function"].upper()
        if field["function"] == "COUNT":
            field.pop("summarized_field", None)
            field["return_type"] = "number"
            continue
        summarized = child.find(field.get("summarized_field"))
        kind = summarized.type.formula_type(summarized.definition) if summarized else None
        allowed = (
            {"number", "currency", "percent"}
            if field["function"] in {"SUM", "AVG"}
            else {"number", "currency", "percent", "date", "datetime"}
        )
        if kind not in allowed:
            errors[f"{place}.summarized_field"] = [
                f"{field['function']} needs a field of type {', '.join(sorted(allowed))}."
            ]
            continue
        field["summarized_field"] = summarized.api_name
        field["return_type"] = kind
    return errors
