"""The filter panel of a list screen: a row per filterable column (and per filter in
force), each with the operators of its field's type and a control for its value, and
one row to add a filter on any other field. It is a GET form: applying it without
JavaScript sends ``f<n>.field``, ``f<n>.op`` and ``f<n>.value`` per row, which
:func:`panel_filters` turns into the list API's filters (the screen then redirects to
the URL that names them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from werkzeug.datastructures import MultiDict

from trellis.access.gate import Access
from trellis.errors import BadRequest
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.records.columns import Column, cached_column
from trellis.records.list_view_checks import is_user_column
from trellis.records.list_views import CURRENT_USER, ViewFilter
from trellis.views.list_columns import SYSTEM_FIELDS, ScreenColumn

MAX_ROWS = 40
# A screen-only operator: "is not empty" is the API's isnull=false.
NOT_EMPTY = "notnull"
WORDS = {
    "eq": "is",
    "ne": "is not",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "contains": "contains",
    "startswith": "starts with",
    "in": "is one of",
    "isnull": "is empty",
    NOT_EMPTY: "is not empty",
}
TIME_WORDS = {"gt": "after", "gte": "on or after", "lt": "before", "lte": "on or before"}
# A date picked for a date-and-time field means that day's start, in UTC.
DAY_START = "T00:00:00Z"
FILTERABLE_SYSTEM = ("created_at", "updated_at")


@dataclasses.dataclass(frozen=True)
class FilterRow:
    index: int
    field: str
    label: str
    operators: list[tuple[str, str]]  # (value, words), the blank "any" first
    operator: str
    value: str
    #: text, number, date, datetime, checkbox, choice, user, or none (a lookup: only
    #: whether it is blank)
    control: str
    choices: list[str] = dataclasses.field(default_factory=list)
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class FilterPanel:
    rows: list[FilterRow]
    #: The row that adds a filter: (api name, label, operators) of every filterable field,
    #: and every operator (which the script narrows to the chosen field's).
    fields: list[tuple[str, str, list[str]]]
    all_operators: list[tuple[str, str]]
    extra_index: int
    sort_fields: list[tuple[str, str]]


def _control(field: CompiledField, column: Column, schema: TenantSchema) -> str:
    if is_user_column(schema, column):
        return "user"
    if field.type.references_records:  # nobody types a record's id: only blank or not
        return "none"
    kind = field.type.name
    if column.sql_type == "boolean":
        return "checkbox"
    if kind in {"picklist", "multi_picklist"}:
        return "choice"
    if column.sql_type == "numeric":
        return "number"
    if column.sql_type in {"date", "timestamptz"}:
        return "date" if column.sql_type == "date" else "datetime"
    return "text"


def _operators(column: Column, control: str) -> list[tuple[str, str]]:
    words = {**WORDS, **(TIME_WORDS if control in {"date", "datetime"} else {})}
    names = list(column.operators)
    if control == "datetime":  # a day picked: "on or after" and "before" it
        names = [name for name in names if name in {"gte", "lt", "isnull"}]
    if control == "user":
        names = [name for name in names if name in {"eq", "ne", "isnull"}]
    if control == "none":
        names = [name for name in names if name == "isnull"]
    if "isnull" in names:
        names.append(NOT_EMPTY)
    return [("", "any")] + [(name, words[name]) for name in names]


def _choices(field: CompiledField) -> list[str]:
    values = field.definition.get("values") or []
    return [
        item if isinstance(item, str) else str(item.get("value"))
        for item in values
        if isinstance(item, str | dict)
    ]


def _field(obj: ObjectSchema, name: str) -> tuple[CompiledField | None, str]:
    field = obj.find(name)
    if field is not None:
        return field, str(field.definition.get("label") or field.api_name)
    return None, SYSTEM_FIELDS.get(name, (name, ""))[0]


def filter_row(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    index: int,
    name: str,
    current: ViewFilter | None,
    error: str | None = None,
) -> FilterRow | None:
    """One row of the panel, for field ``name`` (with a filter on it in force, or none);
    None for a field that cannot be filtered."""
    try:
        column = cached_column(obj, schema, access, name)
    except BadRequest:
        return None
    field, label = _field(obj, column.name)
    if field is not None:
        control = _control(field, column, schema)
    elif is_user_column(schema, column):  # the owner, creator or last editor
        control = "user"
    else:  # another system column: a moment, the version or the id
        control = {"timestamptz": "datetime", "numeric": "number"}.get(column.sql_type, "text")
    operator, value = (current.operator, current.value) if current else ("", "")
    if operator == "isnull":
        operator, value = (NOT_EMPTY if value == "false" else "isnull"), ""
    if control == "datetime":
        value = value[:10]
    return FilterRow(
        index,
        column.name,
        label,
        _operators(column, control),
        operator,
        value,
        control,
        _choices(field) if field is not None and control == "choice" else [],
        error,
    )


def filter_panel(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    filters: Iterable[ViewFilter],
    columns: list[ScreenColumn],
    errors: dict[str, str],
) -> FilterPanel:
    """Rows for the filters in force (and those the URL named wrongly, with their
    messages), then for the other filterable columns."""
    rows: list[FilterRow] = []
    for each in filters:
        error = errors.get(each.parameter) or errors.get(each.field)
        row = filter_row(obj, schema, access, len(rows), each.field, each, error)
        if row is not None:
            rows.append(row)
    named = {row.field for row in rows}
    for column in columns:
        if column.sort_name is not None and column.sort_name not in named:
            row = filter_row(obj, schema, access, len(rows), column.sort_name, None)
            if row is not None:
                rows.append(row)
                named.add(row.field)
    rows = rows[:MAX_ROWS]
    fields, every = [], dict(WORDS)
    for name, label, _ in filterable_fields(obj, schema, access):
        row = filter_row(obj, schema, access, 0, name, None)
        if row is not None:
            fields.append((name, label, [value for value, _ in row.operators if value]))
    sortable = [
        (name, label) for name, label, sorts in filterable_fields(obj, schema, access) if sorts
    ]
    return FilterPanel(rows, fields, [("", "any"), *every.items()], len(rows), sortable)


def describe(obj: ObjectSchema, schema: TenantSchema, access: Access, each: ViewFilter) -> str:
    """A filter in words, as its chip shows it (``Amount at least 5000``)."""
    row = filter_row(obj, schema, access, 0, each.field, each)
    if row is None:
        return f"{each.field} {each.operator} {each.value}"
    words = dict(row.operators).get(row.operator, row.operator)
    value = row.value
    if each.value == CURRENT_USER:
        value = "me"
    elif row.control == "checkbox":
        value = {"true": "Yes", "false": "No"}.get(value, value)
    return f"{row.label} {words} {value}".strip()


def filterable_fields(
    obj: ObjectSchema, schema: TenantSchema, access: Access
) -> list[tuple[str, str, bool]]:
    """(api name, label, sortable) of every field the reader may filter on, in the
    object's order, then Created and Last modified."""
    hidden = access.unreadable_fields(obj)
    found = []
    for name, field in obj.fields.items():
        if name in hidden or field.sql_type is None:
            continue
        found.append((name, str(field.definition.get("label") or name), field.type.sortable))
    return found + [(name, SYSTEM_FIELDS[name][0], True) for name in FILTERABLE_SYSTEM]


def panel_filters(obj: ObjectSchema, args: MultiDict[str, str]) -> tuple[ViewFilter, ...]:
    """The filters a submitted panel asks for: its rows with an operator (and a value,
    unless the operator needs none), in order."""
    filters = []
    for index in range(MAX_ROWS + 1):
        name = args.get(f"f{index}.field", "")
        operator = args.get(f"f{index}.op", "")
        value = args.get(f"f{index}.value", "").strip()
        if not name or not operator:
            continue
        if operator in {"isnull", NOT_EMPTY}:
            filters.append(ViewFilter(name, "isnull", "true" if operator == "isnull" else "false"))
        elif value:
            filters.append(ViewFilter(name, operator, _value(obj, name, value)))
    return tuple(filters)


def _value(obj: ObjectSchema, name: str, value: str) -> str:
    """A control's value as the list API takes it: a day for a date-and-time field is
    that day's start; "me" is the viewer."""
    field = obj.find(name)
    kind = field.type.formula_type(field.definition) if field is not None else name
    is_moment = kind == "datetime" or name in FILTERABLE_SYSTEM
    if is_moment and len(value) == 10:
        return value + DAY_START
    return value


def sort_choice(args: MultiDict[str, str]) -> str | None:
    """The panel's "Sort by" as a ``sort=``: the field, then the direction."""
    field = args.get("sort_field", "")
    if not field:
        return None
    return f"-{field}" if args.get("sort_dir") == "desc" else field
