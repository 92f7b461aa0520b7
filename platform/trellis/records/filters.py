"""List filters: ``field__operator=value`` parameters and ``where=`` formulas as SQL
conditions whose statements are built once per request shape."""

from __future__ import annotations

import dataclasses
import decimal
import functools
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import sqlalchemy as sa

from trellis.access.gate import Access
from trellis.errors import BadRequest, NotFound
from trellis.metadata.acting_user import BUILT_IN_USER_GLOBALS
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.field_types import FieldValueError
from trellis.metadata.formula_checks import formula_errors
from trellis.metadata.formulas import SqlResolver, UnknownPath, resolve_path
from trellis.metadata.user_paths import user_object
from trellis.records.columns import Column, cached_column
from trellis.rule_engine import FormulaError

# The list parameters that are not field filters.
CONTROL_PARAMETERS = frozenset({"sort", "fields", "limit", "cursor", "count", "where", "deleted"})
# Built lazily: SQLAlchemy refuses ``>`` and friends with None (a blank filter value).
COMPARISONS = {
    "eq": lambda expression, value: expression == value,
    "ne": lambda expression, value: expression.is_distinct_from(value),
    "gt": lambda expression, value: expression > value,
    "gte": lambda expression, value: expression >= value,
    "lt": lambda expression, value: expression < value,
    "lte": lambda expression, value: expression <= value,
}


@dataclasses.dataclass(frozen=True)
class Condition:
    """One filter of a list request. Requests whose conditions have equal keys run
    the same SQL, built by ``build`` once per metadata revision; ``values`` are this
    request's parameters, by the names ``build`` gives them."""

    key: Hashable
    build: Callable[[], sa.ColumnElement]
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def parse_filters(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    args: Mapping[str, list[str]],
    extra_filters: list[Condition] | None = None,
) -> list[Condition]:
    """The conditions of a list request's ``where=`` formulas and field filters, after
    ``extra_filters``; a bad field, operator or value is a clear 400. A ``where=``
    formula reaching related records sees only those the actor may read."""
    tenant_id = access.actor.tenant_id
    conditions = list(extra_filters or [])
    resolver = schema.formulas.sql(obj, tenant_id, gate=access.readable)
    for source in args.get("where", []):
        conditions.append(
            Condition(
                ("where", source),
                functools.partial(where_filter, obj, schema, resolver, source),
            )
        )
    for key, raw_values in args.items():
        if key in CONTROL_PARAMETERS:
            continue
        name, _, operator = key.partition("__")
        try:
            target = cached_column(obj, schema, access, name)
        except NotFound:
            raise BadRequest(
                f"{obj.api_name} has no field {name!r} to filter on.",
                code="unknown_field",
                fields={key: "Unknown field."},
            ) from None
        operator = operator or "eq"
        if operator not in target.operators:
            raise BadRequest(
                f"Operator {operator!r} does not apply to {target.name}; use one of "
                f"{', '.join(target.operators)}.",
                code="bad_operator",
                fields={key: "Unsupported operator."},
            )
        for raw in raw_values:
            try:
                conditions.append(_condition(target, operator, raw, f"p{len(conditions)}"))
            except (FieldValueError, ValueError, decimal.InvalidOperation) as error:
                raise BadRequest(
                    f"Bad value for {key}: {error}",
                    code="bad_filter",
                    fields={key: str(error) or "Bad value."},
                ) from None
    return conditions


def check_readable_parameters(
    obj: ObjectSchema, schema: TenantSchema, access: Access, args: Mapping[str, list[str]]
) -> None:
    """Refuse a list request that filters, sorts or writes a ``where=`` formula over a
    field the actor cannot read: such a field is unknown to them (a filter on it would
    reveal its values one guess at a time). ``fields=`` is checked as it is parsed
    (trellis.records.projection)."""
    if access.everything:
        return
    hidden = {name.lower() for name in access.unreadable_fields(obj)}
    named: dict[str, str] = {}
    for key in args:
        if key not in CONTROL_PARAMETERS:
            named[key.partition("__")[0].lower()] = key
    for part in ",".join(args.get("sort", [])).split(","):
        named[part.strip().lstrip("-+").lower()] = "sort"
    refused = {place: "Unknown field." for name, place in named.items() if name in hidden}
    for source in args.get("where", []):
        try:
            formula = schema.formulas.compile(
                obj, source, expected_type="checkbox", allow_prior=False
            )
        except FormulaError as error:
            if not readable_suggestion(schema, access, obj, error):
                refused["where"] = "Unknown field."  # not "did you mean" a hidden one
            continue  # else reported, with its position, when the filter is built
        if not all(
            _readable_path(schema, access, obj, path) for path in formula.references
        ) or not all(_readable_global(schema, access, name) for name in formula.global_references):
            refused["where"] = "Unknown field."
    if refused:
        raise BadRequest(f"{obj.api_name} has no such field.", code="unknown_field", fields=refused)


def readable_suggestion(
    schema: TenantSchema, access: Access, obj: ObjectSchema, error: FormulaError
) -> bool:
    """Whether the name a formula error suggests ("did you mean …?") is one the actor may
    read: suggesting a hidden field would name it to someone it is hidden from."""
    name = error.suggestion
    if name is None or access.everything:
        return True
    if name.startswith("$"):
        return _readable_global(schema, access, name)
    return _readable_path(schema, access, obj, name)


def _readable_path(schema: TenantSchema, access: Access, obj: ObjectSchema, path: str) -> bool:
    """Whether the actor may read every field along a formula path (``Deal.Account.Name``)."""
    try:
        steps = resolve_path(schema, obj, path)
    except UnknownPath:
        return True  # the compiler has accepted it: nothing here to hide
    return access.can_read_path(steps)


def _readable_global(schema: TenantSchema, access: Access, name: str) -> bool:
    """Whether the actor may read the field of their own User record that ``$User.<Field>``
    names (field-level security applies to it as to anyone's; ``$User.Id`` and
    ``$User.Email`` come from the account and are theirs)."""
    group, _, field_name = name.partition(".")
    user = user_object(schema)
    if group != "$User" or user is None or field_name in BUILT_IN_USER_GLOBALS:
        return True
    field = user.find(field_name)
    return field is None or field.api_name not in access.unreadable_fields(user)


def where_filter(
    obj: ObjectSchema, schema: TenantSchema, resolver: SqlResolver, source: str
) -> sa.ColumnElement:
    """A ``where=`` formula as a SQL condition; formulas that cannot run in SQL are refused."""
    try:
        formula = schema.formulas.compile(obj, source, expected_type="checkbox", allow_prior=False)
        # A condition, not a value: NULL already means "not selected" in WHERE, and a
        # bare ``field op :param`` lets PostgreSQL use the field's index.
        return formula.to_sql_condition(resolver)
    except FormulaError as error:
        raise BadRequest(
            f"The where formula is invalid: {error.message}",
            code="bad_where",
            fields=formula_errors("where", error),
        ) from None


def _condition(target: Column, operator: str, raw: str, name: str) -> Condition:
    """The condition ``target <operator> raw``; its parameters are named ``name…``."""
    if "\x00" in raw:
        raise ValueError("Text cannot contain the NUL character.")
    expression = target.element
    key = (target.name, operator)

    def parameter(parameter_name: str = name, type_: Any = expression.type) -> sa.BindParameter:
        return sa.bindparam(parameter_name, None, type_=type_)

    if operator == "isnull":
        if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
            raise ValueError("use true or false")
        wanted = raw.lower() in {"1", "true", "yes"}
        return Condition(
            (*key, wanted), lambda: expression.is_(None) if wanted else expression.is_not(None)
        )
    if operator == "contains" and target.sql_type == "jsonb":
        value = target.field.type.parse_filter_value(raw, target.field.definition)
        return Condition(
            key,
            lambda: sa.literal_column(f"(data->'{target.name}')").op("?")(parameter(type_=sa.Text)),
            {name: value},
        )
    if operator in {"contains", "startswith"}:
        escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%" if operator == "contains" else f"{escaped}%"
        return Condition(
            key, lambda: expression.ilike(parameter(type_=sa.Text), escape="\\"), {name: pattern}
        )
    if operator == "in":
        values = {
            f"{name}_{index}": target.value(part) for index, part in enumerate(raw.split(","))
        }
        return Condition(
            (*key, len(values)),
            lambda: expression.in_([parameter(each) for each in values]),
            values,
        )
    value = target.value(raw)
    if value is None:
        if operator not in {"eq", "ne"}:
            raise ValueError("give a value to compare with")
        return Condition((*key, None), lambda: COMPARISONS[operator](expression, None))
    return Condition(key, lambda: COMPARISONS[operator](expression, parameter()), {name: value})
