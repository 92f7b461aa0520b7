"""Filterable, sortable columns: a field or system column as the typed SQL expression its
partial index uses, and query-string or cursor values as the Python values to compare."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import uuid
from typing import Any

import sqlalchemy as sa

from trellis.access.gate import Access
from trellis.errors import BadRequest
from trellis.metadata.compiled import SYSTEM_COLUMNS, ObjectSchema, TenantSchema
from trellis.metadata.formulas import SQL_TYPES, SqlResolver
from trellis.metadata.statements import Statement, StatementKey

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


def cached_column(obj: ObjectSchema, schema: TenantSchema, access: Access, name: str) -> Column:
    """:func:`column`, made once per revision, name and access shape: a formula or roll-up
    filtered or sorted on reaches only the related records the reader may read, as it
    does when shown."""
    tenant_id = access.actor.tenant_id
    return schema.statements.get(
        StatementKey(Statement.COLUMN, obj.id, (tenant_id, name, access.shape)),
        lambda: column(obj, name, schema.formulas.sql(obj, tenant_id, gate=access.readable)),
    )
