"""List views checked as the list API checks a request: a view's columns are paths
``fields=`` accepts from the reader, its filters parameters the list query accepts, its
sort a ``sort=`` it accepts, its board as trellis.records.board_checks checks it.
Field-level security is part of each check: a field the author may not read is as
unknown as one that does not exist, and a view read back leaves out what its reader may
not read (:func:`for_reader`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from trellis.access.gate import Access
from trellis.errors import BadRequest, NotFound
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.metadata.user_paths import user_object
from trellis.records.board_checks import board_for_reader, parse_board
from trellis.records.columns import Column, cached_column
from trellis.records.list_views import (
    API_NAME,
    CURRENT_USER,
    DEFAULT_SORT,
    KEYS,
    MAX_COLUMNS,
    MAX_FILTERS,
    MAX_LABEL,
    MAX_SORT_KEYS,
    MAX_VALUE,
    MAX_WIDTH,
    MIN_WIDTH,
    NOBODY,
    VISIBILITIES,
    Errors,
    ListView,
    ViewColumn,
    ViewFilter,
    default_columns,
    filter_arguments,
)
from trellis.records.projection import readable_path
from trellis.records.query import parse_list_request


def parse_view(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    body: Any,
    current: ListView | None = None,
) -> ListView:
    """A new view from a request body, or ``current`` changed by one (only the keys it
    names); every mistake is named in one 400 ``invalid_list_view``."""
    if not isinstance(body, dict):
        raise BadRequest("A list view is a JSON object.", code="malformed_json")
    errors: Errors = {}
    unknown = sorted(str(key) for key in body if key not in KEYS)
    if unknown:
        errors["body"] = [f"Unknown keys: {', '.join(unknown)}; a view has {', '.join(KEYS)}."]
    api_name = _api_name(body, current, errors)
    label = _label(body, current, errors)
    shared = _shared(body, current, errors)
    if "columns" in body:
        columns = parse_columns(obj, schema, access, body["columns"], errors)
    else:
        columns = current.columns if current else default_columns(obj, access)
    filters = (
        _filters(obj, schema, access, body["filters"], errors)
        if "filters" in body
        else (current.filters if current else ())
    )
    sort = _sort(obj, schema, access, body["sort"], errors) if "sort" in body else None
    board = (
        parse_board(obj, schema, access, body["board"], errors)
        if "board" in body
        else (current.board if current else None)
    )
    if errors:
        raise BadRequest("The list view is invalid.", code="invalid_list_view", fields=errors)
    return ListView(
        api_name,
        label,
        columns,
        filters,
        sort or (current.sort if current else DEFAULT_SORT),
        shared,
        current.id if current else None,
        current.owner_id if current else None,
        board=board,
    )


def _api_name(body: dict[str, Any], current: ListView | None, errors: Errors) -> str:
    name = body.get("api_name", current.api_name if current else None)
    if current is not None and isinstance(name, str) and name.lower() != current.api_name.lower():
        errors["api_name"] = ["A view's api_name cannot change; save it as a new view."]
    elif not isinstance(name, str) or not API_NAME.fullmatch(name):
        errors["api_name"] = ["A letter, then letters, digits or _ (at most 63)."]
        return ""
    return name if current is None else current.api_name


def _label(body: dict[str, Any], current: ListView | None, errors: Errors) -> str:
    label = body.get("label", current.label if current else None)
    if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL:
        errors["label"] = [f"Name the view in 1 to {MAX_LABEL} characters."]
        return ""
    return label.strip()


def _shared(body: dict[str, Any], current: ListView | None, errors: Errors) -> bool:
    visibility = body.get("visibility", current.visibility if current else "private")
    if visibility not in VISIBILITIES:
        errors["visibility"] = ["shared or private."]
    elif current is not None and visibility != current.visibility:
        errors["visibility"] = ["A view's visibility cannot change; save it as a new view."]
    return bool(visibility == "shared")


def parse_columns(
    obj: ObjectSchema, schema: TenantSchema, access: Access, raw: Any, errors: Errors
) -> tuple[ViewColumn, ...]:
    """Columns from ``["Name", {"field": "Amount", "width": 140}, …]``, each a path the
    list API's ``fields=`` accepts from this reader, named as the metadata spells it."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_COLUMNS:
        errors["columns"] = [f"A list of 1 to {MAX_COLUMNS} fields."]
        return ()
    columns: list[ViewColumn] = []
    for index, item in enumerate(raw):
        place = f"columns.{index}"
        entry = item if isinstance(item, dict) else {"field": item}
        path, width = entry.get("field"), entry.get("width")
        if set(entry) - {"field", "width"}:
            errors[place] = ["A column has a field and an optional width."]
            continue
        canonical = readable_path(obj, schema, access, path)
        if canonical is None:
            errors[place] = [f"Unknown field {path!r}."]
        elif width is not None and (
            not isinstance(width, int)
            or isinstance(width, bool)
            or not MIN_WIDTH <= width <= MAX_WIDTH
        ):
            errors[place] = [f"A width is a whole number of pixels, {MIN_WIDTH} to {MAX_WIDTH}."]
        elif any(column.field == canonical for column in columns):
            errors[place] = [f"{canonical} is already a column."]
        else:
            columns.append(ViewColumn(canonical, width))
    return tuple(columns)


def _filters(
    obj: ObjectSchema, schema: TenantSchema, access: Access, raw: Any, errors: Errors
) -> tuple[ViewFilter, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_FILTERS:
        errors["filters"] = [f"A list of at most {MAX_FILTERS} filters."]
        return ()
    filters = []
    for index, item in enumerate(raw):
        try:
            filters.append(parse_filter(obj, schema, access, item))
        except BadRequest as error:
            errors[f"filters.{index}"] = [error.message]
    return tuple(filters)


def parse_filter(obj: ObjectSchema, schema: TenantSchema, access: Access, item: Any) -> ViewFilter:
    """One filter, ``{"field", "operator", "value"}``, as the list API would take it from
    this reader; a 400 whose message says what is wrong."""
    if not isinstance(item, dict) or set(item) - {"field", "operator", "value"}:
        raise BadRequest("A filter has a field, an operator and a value.")
    name, operator, value = item.get("field"), item.get("operator", "eq"), item.get("value")
    column = _filter_column(obj, schema, access, name)
    if not isinstance(operator, str) or operator not in column.operators:
        raise BadRequest(
            f"Operator {operator!r} does not apply to {column.name}; use one of "
            f"{', '.join(column.operators)}."
        )
    text = _value_text(value, operator)
    if text == CURRENT_USER and not is_user_column(schema, column):
        raise BadRequest(f"{CURRENT_USER} compares with the owner or a user lookup.")
    arguments = filter_arguments([ViewFilter(column.name, operator, text)], NOBODY)
    try:
        parse_list_request(obj, schema, access, arguments)  # the value, as the API reads it
    except BadRequest as error:
        said = [message for messages in error.fields.values() for message in messages]
        raise BadRequest(said[0] if said else error.message) from None
    return ViewFilter(column.name, operator, text)


def _filter_column(obj: ObjectSchema, schema: TenantSchema, access: Access, name: Any) -> Column:
    unknown = BadRequest(f"{obj.api_name} has no field {name!r} to filter on.")
    if not isinstance(name, str) or not API_NAME.fullmatch(name):
        raise unknown
    field = obj.find(name)
    if field is not None and field.api_name in access.unreadable_fields(obj):
        raise unknown
    try:
        return cached_column(obj, schema, access, name)
    except NotFound:
        raise unknown from None


def _value_text(value: Any, operator: str) -> str:
    if value is None and operator == "isnull":
        return "true"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) or (isinstance(value, str) and len(value) <= MAX_VALUE):
        return str(value)
    raise BadRequest(
        f"A filter's value is text of at most {MAX_VALUE} characters, a number or true/false."
    )


def is_user_column(schema: TenantSchema, column: Column) -> bool:
    """Whether a column's values are user ids: the owner, creator and last editor, and
    lookups to the User object."""
    if column.field is None:
        return column.name in {"owner_id", "created_by", "updated_by"}
    user = user_object(schema)
    target = str(column.field.definition.get("target", "")).lower()
    return bool(
        column.field.type.references_records
        and user is not None
        and target == user.api_name.lower()
    )


def _sort(obj: ObjectSchema, schema: TenantSchema, access: Access, raw: Any, errors: Errors) -> str:
    try:
        return canonical_sort(obj, schema, access, raw)
    except BadRequest as error:
        errors["sort"] = [error.message]
        return DEFAULT_SORT


def canonical_sort(obj: ObjectSchema, schema: TenantSchema, access: Access, raw: Any) -> str:
    """A ``sort=`` the list API accepts from this reader, fields spelt as the metadata
    spells them (``-amount`` is ``-Amount``); a 400 saying what is wrong otherwise."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("Name the fields to sort by as the list API's sort= does (-Amount,Name).")
    keys = [part.strip() for part in raw.split(",")]
    if len(keys) > MAX_SORT_KEYS:
        raise BadRequest(f"Sort by at most {MAX_SORT_KEYS} fields.")
    hidden = {name.lower() for name in access.unreadable_fields(obj)}
    for key in keys:
        if key.lstrip("-+").lower() in hidden:  # said as of a field that does not exist
            raise BadRequest(f"Cannot sort by {key.lstrip('-+')!r}.")
    request = parse_list_request(obj, schema, access, {"sort": [",".join(keys)]})
    return ",".join(
        ("-" if descending else "") + column.name
        for column, descending in request.sort[: len(keys)]
    )


def reversed_sort(sort: str) -> str:
    """The opposite order: every key's direction turned, so the tie-breaking ``id`` the
    list query adds (which follows the first key) turns too."""
    return ",".join(key[1:] if key.startswith("-") else f"-{key}" for key in sort.split(","))


def for_reader(obj: ObjectSchema, schema: TenantSchema, access: Access, view: ListView) -> ListView:
    """``view`` as one reader sees it: without the columns and filters they may not read
    (or that no longer fit the metadata), sorted newest first if they may not read the
    sort. Worked out once per revision, stored view version and access shape: every list
    page needs it, and checking each column and filter again cost a list screen more than
    its query of the views (benchmarks/screens_bench.py)."""
    version = (view.api_name, view.id, view.owner_id, view.updated_at, access.shape)
    return schema.statements.get(
        StatementKey(Statement.READER_VIEW, obj.id, version),
        lambda: _for_reader(obj, schema, access, view),
    )


def _for_reader(
    obj: ObjectSchema, schema: TenantSchema, access: Access, view: ListView
) -> ListView:
    columns = tuple(
        dataclasses.replace(column, field=path)
        for column in view.columns
        if (path := readable_path(obj, schema, access, column.field)) is not None
    )
    filters = []
    for each in view.filters:
        try:
            filters.append(parse_filter(obj, schema, access, each.to_json()))
        except BadRequest:
            continue  # absent for this reader, as the field is
    errors: dict[str, list[str]] = {}
    sort = _sort(obj, schema, access, view.sort, errors)
    return dataclasses.replace(
        view,
        columns=columns or default_columns(obj, access),
        filters=tuple(filters),
        sort=DEFAULT_SORT if errors else sort,
        board=board_for_reader(obj, schema, access, view.board),
    )
