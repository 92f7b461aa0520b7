"""The query parameters of record lists in the OpenAPI document: sorting, projection,
paging and, per filterable field, one parameter for each operator its type offers."""

from __future__ import annotations

import re
import uuid
from typing import Any

from trellis.api.openapi_schema import (
    BOOLEAN,
    OPTIONAL_TEXT,
    SYSTEM_FIELDS,
    TEXT,
    array,
    parameter,
    shape,
    without_null,
)
from trellis.errors import TrellisError
from trellis.metadata.compiled import SYSTEM_COLUMNS, ObjectSchema, TenantSchema
from trellis.metadata.formulas import MAX_PATH_DEPTH
from trellis.records.columns import Column, column
from trellis.records.query import DEFAULT_LIMIT, MAX_LIMIT
from trellis.rule_engine import FormulaError


def filter_columns(obj: ObjectSchema, schema: TenantSchema, tenant_id: uuid.UUID) -> list[Column]:
    """The system columns and fields a list can filter (and maybe sort) by: exactly those
    the list query's own :func:`column` accepts."""
    resolver, found = schema.formulas.sql(obj, tenant_id), []
    for name in [*SYSTEM_COLUMNS, *obj.fields]:
        try:
            found.append(column(obj, name, resolver))
        except (TrellisError, FormulaError, ValueError):  # a field with no SQL form
            continue
    return found


def filter_value_schema(target: Column, operator: str) -> dict[str, Any]:
    if operator in {"isnull", "in"}:
        return BOOLEAN if operator == "isnull" else TEXT
    if target.field is None:
        return without_null(SYSTEM_FIELDS[target.name])
    value = without_null(target.field.type.json_schema(target.field.definition))
    if value.get("type") == "array":
        value = value.get("items", TEXT)
    if operator in {"contains", "startswith"} and "enum" not in value:
        return TEXT
    return {key: value[key] for key in ("type", "format", "enum", "pattern") if key in value}


def filter_parameters(columns: list[Column]) -> list[dict[str, Any]]:
    """``Field`` (equals) and ``Field__op`` for each operator of each filterable column."""
    return [
        parameter(
            target.name if operator == "eq" else f"{target.name}__{operator}",
            "query",
            filter_value_schema(target, operator),
            f"{target.name} {operator} the value"
            + (" (comma-separated values)." if operator == "in" else "."),
        )
        for target in columns
        for operator in target.operators
    ]


def names_pattern(names: list[str], signed: bool) -> str:
    one = ("[-+]?" if signed else "") + "(?:" + "|".join(map(re.escape, names)) + ")"
    return f"^{one}(?:,{one})*$"


def fields_pattern(obj: ObjectSchema, schema: TenantSchema) -> str:
    """``fields=`` as the records API takes it: the record's own fields (and system
    fields), and paths through its lookups (``Account.Name``, ``Account.Owner.Email``)."""
    own = "|".join(map(re.escape, [*SYSTEM_COLUMNS, *obj.fields]))
    lookups = [
        field.api_name
        for field in obj.lookups()
        if str(field.definition["target"]).lower() in schema.objects
    ]
    one = f"(?:{own})"
    if lookups:
        name = "[A-Za-z][A-Za-z0-9_]{0,62}"
        through = "|".join(map(re.escape, lookups))
        one = f"(?:{own}|(?:{through})(?:\\.{name}){{1,{MAX_PATH_DEPTH}}})"
    return f"^{one}(?:,{one})*$"


def fields_parameter(obj: ObjectSchema | None, schema: TenantSchema | None) -> dict[str, Any]:
    """``fields=``, documented once for lists, related lists and single reads."""
    pattern = dict(TEXT)
    if obj is not None and schema is not None:
        pattern["pattern"] = fields_pattern(obj, schema)
    return parameter(
        "fields",
        "query",
        pattern,
        "Comma-separated fields to return with the system fields, e.g. `Name,Amount`. A "
        "lookup named alone is its record's id; naming fields of its record through it "
        f"(`Account.Name`, at most {MAX_PATH_DEPTH} lookups deep) returns it as an object of "
        "`id` and those fields instead, or `id` alone when you may not read that record.",
    )


def list_parameters(
    obj: ObjectSchema | None, columns: list[Column], schema: TenantSchema | None = None
) -> list[dict[str, Any]]:
    """Sort, projection and paging parameters, and ``obj``'s filters when it is given."""
    sort = dict(TEXT)
    if obj is not None:
        sort["pattern"] = names_pattern(
            [
                target.name
                for target in columns
                if target.field is None or target.field.type.sortable
            ],
            signed=True,
        )
    limit = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
    return [
        parameter(
            "sort",
            "query",
            sort,
            "Comma-separated fields, `-` for descending, "
            "e.g. `-Amount,Name` (default `-created_at`).",
        ),
        fields_parameter(obj, schema),
        parameter("limit", "query", limit, "Records per page."),
        parameter("cursor", "query", TEXT, "The previous page's `next_cursor`."),
        parameter("count", "query", BOOLEAN, "Also return `total`, the number of matches."),
        parameter("deleted", "query", BOOLEAN, "List the recycle bin instead."),
        parameter(
            "where", "query", TEXT, "A formula each record must satisfy, e.g. `Amount > 1000`."
        ),
        *(filter_parameters(columns) if obj is not None else ()),
    ]


def page_of(items: dict[str, Any]) -> dict[str, Any]:
    return shape(
        {
            "data": array(items),
            "next_cursor": OPTIONAL_TEXT,
            "total": {"type": "integer", "minimum": 0, "description": "With count=true."},
        },
        ["data", "next_cursor"],
    )
