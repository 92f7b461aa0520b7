"""Save-time formula checks: every formula of an object, or of the tenant as it would be
with one definition saved, compiled against the metadata, with errors as field errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from trellis.errors import TrellisError, ValidationError
from trellis.metadata.acting_user import refuse_acting_user
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.formulas import FormulaCompiler
from trellis.metadata.related_list_checks import check_related_lists
from trellis.metadata.sharing_checks import check_sharing
from trellis.rule_engine import FormulaError, kinds


def formula_errors(place: str, error: FormulaError) -> dict[str, list[str]]:
    """A formula error as envelope field errors, position and caret snippet included."""
    snippet = f"\n{error.snippet}" if getattr(error, "snippet", None) else ""
    return {place: [f"{error.message} (line {error.line}, column {error.column}){snippet}"]}


#: A formula check: the place its errors are reported under, and what compiles it.
Check = tuple[str, Callable[[], Any]]


def check_object_formulas(
    compiler: FormulaCompiler, obj: ObjectSchema, saved: ObjectSchema | None = None
) -> None:
    """Compile every formula of ``obj`` (fields, rules, conditions, defaults) or raise.

    ``saved`` is the object as stored: its unchanged automations may keep an action
    type whose plugin has been removed since."""
    checks = _field_checks(compiler, obj)
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
                partial(compiler.compile, obj, rule["condition"], expected_type="checkbox"),
            )
        )

    def _as_sql(compile_condition: Callable[[], Any]) -> Any:
        condition = compile_condition().to_sql_condition(compiler.sql(obj, uuid.UUID(int=0)))
        return refuse_acting_user(condition, "A sharing rule")

    for index, rule in enumerate(obj.definition.get("sharing_rules", [])):
        if "criteria" in rule:
            condition = partial(
                compiler.compile, obj, rule["criteria"], expected_type="checkbox", allow_prior=False
            )
            # The rule runs as SQL over every record, for no reader in particular: a
            # formula that cannot, or that reads the acting user, is refused.
            checks.append((f"sharing_rules.{index}.criteria", partial(_as_sql, condition)))
    errors = _run_checks(checks)
    if errors:
        raise ValidationError("Some formulas are invalid.", fields=errors, code="formula_error")


def _field_checks(compiler: FormulaCompiler, obj: ObjectSchema) -> list[Check]:
    """The checks of every formula a field of ``obj`` holds: its expression or roll-up
    filter, its conditions and its default formula."""
    checks: list[Check] = []
    sql = compiler.sql(obj, uuid.UUID(int=0))
    for field in obj.fields.values():
        place = f"fields.{field.api_name}"
        definition = field.definition
        if not field.type.stored and not field.type.aggregates:
            checks.append((f"{place}.expression", partial(sql.formula, field)))
        if field.type.aggregates:
            checks.append((f"{place}.filter", partial(sql.rollup, field)))
        for key in ("required_when", "read_only_when", "visible_when"):
            if definition.get(key):
                checks.append(
                    (
                        f"{place}.{key}",
                        partial(compiler.compile, obj, definition[key], expected_type="checkbox"),
                    )
                )
        if definition.get("default_formula"):
            checks.append(
                (
                    f"{place}.default_formula",
                    partial(
                        compiler.compile,
                        obj,
                        definition["default_formula"],
                        expected_type=field.type.formula_type(definition),
                        allow_prior=False,
                    ),
                )
            )
    return checks


def _run_checks(checks: list[Check]) -> dict[str, list[str]]:
    """Run every check; the errors of all of them, by place."""
    errors: dict[str, list[str]] = {}
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
    return errors


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
        formula_compiler=FormulaCompiler,
        access=schema.access,
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
    check_sharing(provisional, changed)
    check_related_lists(provisional, changed)
    if schema.hooks is not None:
        schema.hooks.check_object_change(
            schema=provisional,
            api_name=changed.api_name,
            saved=schema.objects.get(changed.api_name.lower()),
        )


def _has_formulas(obj: ObjectSchema) -> bool:
    keys = ("required_when", "read_only_when", "visible_when", "default_formula")
    definition = obj.definition
    if any("criteria" in rule for rule in definition.get("sharing_rules", [])):
        return True  # a criteria rule may read another object's fields (Owner.Region)
    return bool(definition.get("validation_rules") or definition.get("automations")) or any(
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
        if summarized is None or kind not in allowed:
            errors[f"{place}.summarized_field"] = [
                f"{field['function']} needs a field of type {', '.join(sorted(allowed))}."
            ]
            continue
        field["summarized_field"] = summarized.api_name
        field["return_type"] = kind
    return errors
