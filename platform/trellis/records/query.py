"""List queries: field filters, operators, sorting, projection and keyset pagination.

Everything a list page needs is one SQL statement: filters and sorts use the same
typed expressions as the per-field partial indexes (so PostgreSQL can use them),
the keyset condition continues after the cursor's row, and each row arrives already
rendered as JSON.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import functools
import json
import uuid
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.db import driver_execute, index_friendly_reads
from trellis.errors import BadRequest, NotFound
from trellis.metadata.compiled import SYSTEM_COLUMNS, ObjectSchema, TenantSchema
from trellis.metadata.field_types import FieldValueError
from trellis.metadata.formula_checks import formula_errors
from trellis.metadata.formulas import SQL_TYPES, SqlResolver
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.parameters import whole_number
from trellis.records.serialize import page_body, record_json_text
from trellis.records.tables import records
from trellis.rule_engine import FormulaError

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
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
# Beyond this exponent a number cannot be a stored value, and PostgreSQL's numeric overflows.
MAX_EXPONENT = 1000


@dataclasses.dataclass(frozen=True)
class Column:
    """A filterable, sortable expression: a custom field (stored or computed) or a system
    column."""

    name: str
    element: sa.ColumnElement
    sql_type: str
    operators: tuple[str, ...]
    field: Any = None

    def value(self, raw: Any) -> Any:
        """A query-string or cursor value as the Python value to compare with."""
        if raw is None:
            return None
        if self.field is not None and isinstance(raw, str):
            raw = self.field.type.parse_filter_value(raw, self.field.definition)
        return python_value(self.sql_type, raw)


def python_value(sql_type: str, stored: Any) -> Any:
    if stored is None:
        return None
    if sql_type == "numeric":
        number = decimal.Decimal(str(stored))
        if not number.is_finite() or abs(number.adjusted()) > MAX_EXPONENT:
            raise ValueError("not a number in range")
        return number
    if sql_type == "date":
        return dt.date.fromisoformat(stored)
    if sql_type == "timestamptz":
        return (
            stored
            if isinstance(stored, dt.datetime)
            else dt.datetime.fromisoformat(str(stored).replace("Z", "+00:00"))
        )
    if sql_type == "time":
        return dt.time.fromisoformat(stored)
    if sql_type == "boolean":
        return bool(stored)
    if sql_type == "uuid":
        return stored if isinstance(stored, uuid.UUID) else uuid.UUID(str(stored))
    return str(stored)


def column(obj: ObjectSchema, name: str, resolver: SqlResolver) -> Column:
    sql_type: str | None
    if name in SYSTEM_COLUMNS:
        sql, sql_type = SYSTEM_COLUMNS[name]
        operators = (
            ("eq", "ne", "in", "isnull")
            if sql_type == "uuid"
            else ("eq", "ne", "in", "isnull", "gt", "gte", "lt", "lte")
        )
        return Column(name, sa.literal_column(sql, SQL_TYPES[sql_type]), sql_type, operators)
    field = obj.field(name)
    sql_type = field.sql_type
    if sql_type is None:
        raise BadRequest(
            f"{field.api_name} cannot be filtered or sorted.",
            fields={field.api_name: "Not filterable."},
        )
    element = (
        resolver.field(field.api_name)
        if not field.type.stored
        else sa.literal_column(field.sql_expression, SQL_TYPES[sql_type])
    )
    return Column(
        field.api_name, element, sql_type, field.type.operators_for(field.definition), field
    )


@dataclasses.dataclass(frozen=True)
class Condition:
    """One filter of a list request. Requests whose conditions have equal keys run
    the same SQL, built by ``build`` once per metadata revision; ``values`` are this
    request's parameters, by the names ``build`` gives them."""

    key: Hashable
    build: Callable[[], sa.ColumnElement]
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ListRequest:
    conditions: list[Condition]
    sort: list[tuple[Column, bool]]  # (column, descending)
    sort_text: str
    fields: list[str] | None
    limit: int
    after: Condition | None  # the keyset condition of a cursor
    count: bool
    deleted: bool


def parse_list_request(
    obj: ObjectSchema,
    schema: TenantSchema,
    tenant_id: uuid.UUID,
    args: Mapping[str, list[str]],
    extra_filters: list[Condition] | None = None,
) -> ListRequest:
    """Turn query parameters into a :class:`ListRequest`; any mistake is a clear 400
    (a ``where=`` formula's when its statement is first built, in :func:`list_page`)."""
    conditions = list(extra_filters or [])
    for source in args.get("where", []):
        conditions.append(
            Condition(
                ("where", source),
                functools.partial(
                    where_filter, obj, schema, schema.formulas.sql(obj, tenant_id), source
                ),
            )
        )
    for key, raw_values in args.items():
        if key in CONTROL_PARAMETERS:
            continue
        name, _, operator = key.partition("__")
        try:
            target = cached_column(obj, schema, tenant_id, name)
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
    sort_text = args.get("sort", ["-created_at"])[-1] or "-created_at"
    sort = []
    for part in sort_text.split(","):
        descending = part.startswith("-")
        name = part.lstrip("-+").strip()
        try:
            target = cached_column(obj, schema, tenant_id, name)
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
        sort.append((cached_column(obj, schema, tenant_id, "id"), sort[0][1] if sort else False))
    fields = None
    if args.get("fields"):
        fields = []
        for name in ",".join(args["fields"]).split(","):
            if name.strip() and name.strip() != "id":
                if not obj.has_field(name.strip()):
                    raise BadRequest(
                        f"{obj.api_name} has no field {name.strip()!r}.",
                        code="unknown_field",
                        fields={"fields": "Unknown field."},
                    )
                fields.append(obj.field(name.strip()).api_name)
    limit = whole_number(args.get("limit", [str(DEFAULT_LIMIT)])[-1], "limit", 1, MAX_LIMIT)
    after = (
        keyset_condition(sort, decode_cursor(args["cursor"][-1], sort_text, len(sort)))
        if args.get("cursor")
        else None
    )
    count = args.get("count", ["false"])[-1].lower() in {"1", "true", "yes"}
    deleted = args.get("deleted", ["false"])[-1].lower() in {"1", "true", "yes"}
    return ListRequest(conditions, sort, sort_text, fields, limit, after, count, deleted)


def cached_column(
    obj: ObjectSchema, schema: TenantSchema, tenant_id: uuid.UUID, name: str
) -> Column:
    """:func:`column`, made once per revision and name."""
    return schema.statements.get(
        StatementKey(Statement.COLUMN, obj.id, (tenant_id, name)),
        lambda: column(obj, name, schema.formulas.sql(obj, tenant_id)),
    )


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


def encode_cursor(sort_text: str, values: list[Any]) -> str:
    payload = json.dumps({"s": sort_text, "v": values}, default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort_text: str, size: int) -> list[Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = payload["v"]
        valid = payload["s"] == sort_text and isinstance(values, list) and len(values) == size
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise BadRequest(
            "The cursor is invalid or belongs to another sort order.",
            code="invalid_cursor",
            fields={"cursor": "Invalid cursor."},
        )
    return values


def keyset_condition(sort: list[tuple[Column, bool]], values: list[Any]) -> Condition:
    """Rows strictly after the cursor row in this order (NULLs sort as the largest value,
    PostgreSQL's default, which is also how the indexes are laid out)."""
    try:
        typed = [
            target.value(value) if value is not None else None
            for (target, _), value in zip(sort, values, strict=True)
        ]
    except (ValueError, TypeError, decimal.InvalidOperation, FieldValueError):
        raise BadRequest(
            "The cursor is invalid.", code="invalid_cursor", fields={"cursor": "Invalid cursor."}
        ) from None
    blanks = tuple(value is None for value in typed)

    def build() -> sa.ColumnElement:
        alternatives = []
        equal_so_far: list[sa.ColumnElement] = []
        for index, ((target, descending), blank) in enumerate(zip(sort, blanks, strict=True)):
            expression = target.element
            after: sa.ColumnElement[bool]
            equal: sa.ColumnElement[bool]
            if blank:
                after = expression.is_not(None) if descending else sa.false()
                equal = expression.is_(None)
            else:
                value = sa.bindparam(f"after_{index}", None, type_=expression.type)
                after = (
                    (expression < value)
                    if descending
                    else sa.or_(expression > value, expression.is_(None))
                )
                equal = expression == value
            alternatives.append(sa.and_(*equal_so_far, after))
            equal_so_far.append(equal)
        return sa.or_(*alternatives)

    return Condition(
        ("after", blanks),
        build,
        {f"after_{index}": value for index, value in enumerate(typed) if value is not None},
    )


def written_out(value: uuid.UUID) -> sa.BindParameter:
    """A value rendered into the SQL text rather than sent as a parameter. The partial
    field indexes name their tenant and object as literals; psycopg prepares a statement
    run often, and PostgreSQL may then pick a generic plan, which can only use those
    indexes if the query names them the same way."""
    return sa.bindparam(None, value, literal_execute=True)


def list_page(
    connection: Connection,
    tenant_id: uuid.UUID,
    schema: TenantSchema,
    obj: ObjectSchema,
    request: ListRequest,
) -> str:
    """Run the page query and return the response body (JSON text).

    One statement per request shape (filters and operators, sort, projection, limit),
    built once per metadata revision; the filter values are its parameters.
    """
    scope = (obj.id, tenant_id, request.deleted, tuple(each.key for each in request.conditions))
    shape = (
        *scope,
        request.after.key if request.after else None,
        tuple((target.name, descending) for target, descending in request.sort),
        None if request.fields is None else tuple(request.fields),
        request.limit,
        request.count,
    )
    statement = schema.statements.get(
        StatementKey(Statement.LIST_PAGE, obj.id, shape),
        lambda: _page_statement(tenant_id, schema, obj, request),
    )
    values = {name: value for each in request.conditions for name, value in each.values.items()}
    if request.after is not None:
        values.update(request.after.values)
    with index_friendly_reads(connection):  # the query carries its tenant predicate
        # Rows are (json, sort values…, total when counted).
        rows = driver_execute(connection, statement, values, named=False).fetchall()
        next_cursor = None
        if len(rows) > request.limit:
            rows = rows[: request.limit]
            last = rows[-1]
            next_cursor = encode_cursor(
                request.sort_text,
                [_cursor_value(value) for value in last[1 : 1 + len(request.sort)]],
            )
        total_count = rows[0][-1] if request.count and rows else (0 if request.count else None)
        if request.count and not rows and request.after is not None:
            count = schema.statements.get(
                StatementKey(Statement.LIST_COUNT, obj.id, scope),
                lambda: (
                    sa.select(sa.func.count())
                    .select_from(records)
                    .where(*_scope(tenant_id, obj, request))
                ),
            )
            total_count = driver_execute(connection, count, values).fetchone()[0]
    return page_body((row[0] for row in rows), next_cursor, total_count)


def _scope(tenant_id: uuid.UUID, obj: ObjectSchema, request: ListRequest) -> list[sa.ColumnElement]:
    return [
        records.c.tenant_id == written_out(tenant_id),
        records.c.object_id == written_out(obj.id),
        records.c.deleted_at.is_not(None) if request.deleted else records.c.deleted_at.is_(None),
        *(each.build() for each in request.conditions),
    ]


def _page_statement(
    tenant_id: uuid.UUID, schema: TenantSchema, obj: ObjectSchema, request: ListRequest
) -> sa.Select:
    """The page is chosen in an inner query (filters, keyset, order, limit: what the
    partial indexes serve) and only its rows are rendered as JSON by the outer one, so
    a filter matching thousands of rows never builds thousands of JSON documents."""
    scope = _scope(tenant_id, obj, request)
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
        record_json_text(obj, schema, tenant_id, request.fields).label("json"),
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


def _cursor_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
