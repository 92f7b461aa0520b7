"""Keyset pagination: cursors that name the last row's sort values, and the condition
that continues a list after that row."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid
from typing import Any

import sqlalchemy as sa

from trellis.errors import BadRequest
from trellis.metadata.field_types import FieldValueError
from trellis.records.columns import Column
from trellis.records.filters import Condition


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


def cursor_value(value: Any) -> Any:
    """A sort value as the cursor carries it: JSON, read back by :meth:`Column.value`."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
