"""List pages: a list request's parameters parsed, and the one SQL statement that serves it.

Filters and sorts use the same typed expressions as the per-field partial indexes (so
PostgreSQL can use them), the keyset condition continues after the cursor's row, and each
row arrives already rendered as JSON.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.db import reader_fetch
from trellis.errors import BadRequest, NotFound
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.columns import Column, cached_column
from trellis.records.cursors import cursor_value, decode_cursor, encode_cursor, keyset_condition
from trellis.records.filters import Condition, check_readable_parameters, parse_filters
from trellis.records.parameters import whole_number
from trellis.records.projection import Projection, parse_projection
from trellis.records.serialize import page_body, record_json_text
from trellis.records.tables import records

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


@dataclasses.dataclass
class ListRequest:
    conditions: list[Condition]
    sort: list[tuple[Column, bool]]  # (column, descending)
    sort_text: str
    fields: Projection | None  # fields=, or None for every field
    limit: int
    after: Condition | None  # the keyset condition of a cursor
    count: bool
    deleted: bool


def parse_list_request(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    args: Mapping[str, list[str]],
    extra_filters: list[Condition] | None = None,
) -> ListRequest:
    """Turn query parameters into a :class:`ListRequest`; any mistake is a clear 400
    (a ``where=`` formula's when its statement is first built, in :func:`list_page`).
    Fields that field-level security hides cannot be filtered, sorted on or asked for in
    ``fields=``: they are unknown to the actor."""
    access.rights.require(obj.api_name, "read")
    check_readable_parameters(obj, schema, access, args)
    conditions = parse_filters(obj, schema, access, args, extra_filters)
    sort_text = args.get("sort", ["-created_at"])[-1] or "-created_at"
    sort = _parse_sort(obj, schema, access, sort_text)
    fields = parse_projection(obj, schema, access, args.get("fields", []))
    limit = whole_number(args.get("limit", [str(DEFAULT_LIMIT)])[-1], "limit", 1, MAX_LIMIT)
    after = (
        keyset_condition(sort, decode_cursor(args["cursor"][-1], sort_text, len(sort)))
        if args.get("cursor")
        else None
    )
    count = args.get("count", ["false"])[-1].lower() in {"1", "true", "yes"}
    deleted = args.get("deleted", ["false"])[-1].lower() in {"1", "true", "yes"}
    return ListRequest(conditions, sort, sort_text, fields, limit, after, count, deleted)


def _parse_sort(
    obj: ObjectSchema, schema: TenantSchema, access: Access, sort_text: str
) -> list[tuple[Column, bool]]:
    """The ``sort=`` keys as (column, descending), ending with ``id`` as the tie-breaker."""
    sort = []
    for part in sort_text.split(","):
        descending = part.startswith("-")
        name = part.lstrip("-+").strip()
        try:
            target = cached_column(obj, schema, access, name)
        except NotFound:
            raise BadRequest(
                f"Cannot sort by {name!r}.",
                code="unknown_field",
                fields={"sort": f"{obj.api_name} has no field {name!r}."},
            ) from None
        if target.field is not None and not target.field.type.sortable:
            raise BadRequest(f"{target.name} cannot be sorted.", fields={"sort": "Not sortable."})
        sort.append((target, descending))
    if not any(target.name == "id" for target, _ in sort):
        # The tie-breaker follows the first key's direction, so one index scan serves it.
        sort.append((cached_column(obj, schema, access, "id"), sort[0][1] if sort else False))
    return sort


def written_out(value: uuid.UUID) -> sa.BindParameter:
    """A value rendered into the SQL text rather than sent as a parameter. The partial
    field indexes name their tenant and object as literals; psycopg prepares a statement
    run often, and PostgreSQL may then pick a generic plan, which can only use those
    indexes if the query names them the same way."""
    return sa.bindparam(None, value, literal_execute=True)


def list_page(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    obj: ObjectSchema,
    request: ListRequest,
) -> str:
    """Run the page query and return the response body (JSON text).

    One statement per request shape (filters and operators, sort, projection, limit)
    and access shape, built once per metadata revision; the filter values and the
    actor are its parameters. The access predicate is part of the page, its count and
    its keyset, so all three count only what the actor may read.
    """
    conditions = tuple(each.key for each in request.conditions)
    scope = (obj.id, access.actor.tenant_id, request.deleted, conditions, access.shape)
    shape = (
        *scope,
        request.after.key if request.after else None,
        tuple((target.name, descending) for target, descending in request.sort),
        request.fields,
        request.limit,
        request.count,
    )
    statement = schema.statements.get(
        StatementKey(Statement.LIST_PAGE, obj.id, shape),
        lambda: _page_statement(access, schema, obj, request),
    )
    values = {name: value for each in request.conditions for name, value in each.values.items()}
    values.update(access.parameters)
    if request.after is not None:
        values.update(request.after.values)
    # As the reader role (the query carries its tenant predicate). Rows are (json, sort
    # values…, total when counted).
    rows = reader_fetch(connection, statement, values, named=False)
    next_cursor = None
    if len(rows) > request.limit:
        rows = rows[: request.limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            request.sort_text,
            [cursor_value(value) for value in last[1 : 1 + len(request.sort)]],
        )
    total_count = rows[0][-1] if request.count and rows else (0 if request.count else None)
    if request.count and not rows and request.after is not None:
        count = schema.statements.get(
            StatementKey(Statement.LIST_COUNT, obj.id, scope),
            lambda: (
                sa.select(sa.func.count())
                .select_from(records)
                .where(*scope_conditions(access, obj, request))
            ),
        )
        total_count = reader_fetch(connection, count, values)[0][0]
    return page_body((row[0] for row in rows), next_cursor, total_count)


def scope_conditions(
    access: Access, obj: ObjectSchema, request: ListRequest
) -> list[sa.ColumnElement]:
    """The rows a request lists: the object's live (or deleted) records, its filters, and
    those the actor may read; a list page, its count and a board's totals share them."""
    readable = access.predicate(obj, "read")
    return [
        records.c.tenant_id == written_out(access.actor.tenant_id),
        records.c.object_id == written_out(obj.id),
        records.c.deleted_at.is_not(None) if request.deleted else records.c.deleted_at.is_(None),
        *(each.build() for each in request.conditions),
        *([] if readable is None else [readable]),
    ]


def _page_statement(
    access: Access, schema: TenantSchema, obj: ObjectSchema, request: ListRequest
) -> sa.Select:
    """The page is chosen in an inner query (filters, keyset, order, limit: what the
    partial indexes serve) and only its rows are rendered as JSON by the outer one, so
    a filter matching thousands of rows never builds thousands of JSON documents."""
    scope = scope_conditions(access, obj, request)
    order = [
        target.element.desc() if descending else target.element.asc()
        for target, descending in request.sort
    ]
    sort_values = [target.element.label(f"sort_{i}") for i, (target, _) in enumerate(request.sort)]
    inner = sa.select(records, *sort_values).where(*scope)
    if request.after is not None:
        inner = inner.where(request.after.build())
    # Aliased as "records": the JSON and formula expressions name that table.
    page = inner.order_by(*order).limit(request.limit + 1).subquery("records")
    # Named as text: SQLAlchemy builds a subquery's column collection (a proxy per column
    # of ``records``) on first use of ``page.c``, which costs more than the query.
    sorted_by: list[sa.ColumnElement[Any]] = [
        sa.literal_column(f"records.sort_{i}") for i in range(len(request.sort))
    ]
    columns = [
        record_json_text(obj, schema, access, request.fields).label("json"),
        *[value.label(f"sort_{i}") for i, value in enumerate(sorted_by)],
    ]
    if request.count:
        total = sa.select(sa.func.count()).select_from(records).where(*scope).scalar_subquery()
        columns.append(total.label("total"))
    outer_order = [
        value.desc() if descending else value.asc()
        for value, (_, descending) in zip(sorted_by, request.sort, strict=True)
    ]
    return sa.select(*columns).select_from(page).order_by(*outer_order)
