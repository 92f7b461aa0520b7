"""A board's data: its columns (the grouping field's active values in order, then
blank), each column's count and sum, and each column's cards a page at a time.

Everything goes through the list query (trellis.records.query) with the view's
filters and the reader's access: the totals are one ``GROUP BY`` over the same rows a
list page of the view reads (a scan of all of them, so the board screen asks for them
after its first page), and a column's cards are a list page of the view narrowed
to one value (``Stage=Won``, or ``Stage__isnull=true`` for blank), so they page by the
list's keyset cursor. With the grouping field indexed, PostgreSQL reads a column's page
from that field's partial index; without, from the object's ``created_at`` index.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.db import driver_execute, index_friendly_reads
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.columns import cached_column
from trellis.records.list_views import Board, ViewFilter, filter_arguments
from trellis.records.query import list_page, parse_list_request, scope_conditions
from trellis.records.tables import records

#: How many cards a column shows at first, and loads at a time after.
CARDS_PER_PAGE = 20


@dataclasses.dataclass(frozen=True)
class BoardColumn:
    """One column: a value of the grouping field (None for blank), its label and, once
    counted, how many records it holds (None: not counted)."""

    value: str | None
    label: str
    count: int | None = None
    total: decimal.Decimal | None = None


@dataclasses.dataclass
class CardPage:
    cards: list[dict[str, Any]]
    next_cursor: str | None


def board_values(obj: ObjectSchema, board: Board) -> list[tuple[str | None, str]]:
    """(value, label) of each column: the active values in their order, then blank."""
    field = obj.field(board.group_by)
    choices = field.type.choices(field.definition) or []
    shown: list[tuple[str | None, str]] = [
        (str(each["value"]), str(each.get("label") or each["value"]))
        for each in choices
        if each.get("active", True)
    ]
    return [*shown, (None, "None")]


def column_filter(board: Board, value: str | None) -> ViewFilter:
    """The list filter of one column's cards."""
    if value is None:
        return ViewFilter(board.group_by, "isnull", "true")
    return ViewFilter(board.group_by, "eq", value)


def board_totals(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    obj: ObjectSchema,
    board: Board,
    arguments: dict[str, list[str]],
) -> list[BoardColumn]:
    """Every column with how many of the listed records it holds and the sum of the
    board's summary field over them (None without one), in one ``GROUP BY``."""
    request = parse_list_request(obj, schema, access, arguments)
    conditions = tuple(each.key for each in request.conditions)
    shape = (access.actor.tenant_id, conditions, access.shape, board.group_by, board.summary_field)

    def build() -> sa.Select[Any]:
        group = cached_column(obj, schema, access, board.group_by).element
        summary = (
            sa.func.sum(cached_column(obj, schema, access, board.summary_field).element)
            if board.summary_field
            else sa.null()
        )
        return (
            sa.select(group.label("value"), sa.func.count().label("count"), summary)
            .select_from(records)
            .where(*scope_conditions(access, obj, request))
            .group_by(group)
        )

    statement = schema.statements.get(StatementKey(Statement.BOARD_TOTALS, obj.id, shape), build)
    values = {name: value for each in request.conditions for name, value in each.values.items()}
    values.update(access.parameters)
    with index_friendly_reads(connection):
        rows = driver_execute(connection, statement, values, named=False).fetchall()
    found = {row[0]: (int(row[1]), row[2]) for row in rows}
    return [
        BoardColumn(value, label, *found.get(value, (0, None)))
        for value, label in board_values(obj, board)
    ]


def column_cards(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    obj: ObjectSchema,
    arguments: dict[str, list[str]],
    cursor: str | None = None,
    limit: int = CARDS_PER_PAGE,
) -> CardPage:
    """A page of one column's cards (``arguments``: the list request of the view and the
    column, with its ``fields=`` and ``sort=``), after ``cursor`` if given."""
    asked = {**arguments, "limit": [str(limit)]}
    if cursor:
        asked["cursor"] = [cursor]
    request = parse_list_request(obj, schema, access, asked)
    body = json.loads(
        list_page(connection, access, schema, obj, request), parse_float=decimal.Decimal
    )
    return CardPage(body["data"], body["next_cursor"])


def card_arguments(
    filters: tuple[ViewFilter, ...],
    board: Board,
    value: str | None,
    user_id: uuid.UUID | None,
    fields: list[str],
    sort: str,
) -> dict[str, list[str]]:
    """The list request of one column: the view's filters and the column's value, the
    card's fields (with the record's version, which a move sends back) and the sort."""
    arguments = filter_arguments([*filters, column_filter(board, value)], user_id)
    arguments["fields"] = [",".join(dict.fromkeys([*fields, board.group_by, "version"]))]
    arguments["sort"] = [sort]
    return arguments
