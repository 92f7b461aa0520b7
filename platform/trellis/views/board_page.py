"""A board screen's content: the board view the URL names, its columns (with their
totals when asked: counting is a scan of every listed record, so the screen loads them
after its first page, as the list loads its count), and each column's first cards (or,
for one column, the page after a cursor).

The cards are read as a list page of the view narrowed to one column
(trellis.records.boards), so field-level security, sharing and the view's filters
hold exactly as on the list screen. A card shows the record's name (its link) and the
board's card fields the reader may read, each through the field's own displayer.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from trellis.errors import NotFound
from trellis.metadata.compiled import ObjectSchema
from trellis.records.boards import (
    BoardColumn,
    CardPage,
    board_totals,
    board_values,
    card_arguments,
    column_cards,
)
from trellis.records.list_view_checks import for_reader
from trellis.records.list_view_store import pick_view, visible_views
from trellis.records.list_views import Board, ListView, ViewColumn, filter_arguments
from trellis.records.names import readable_name_field
from trellis.views import field_values
from trellis.views.list_columns import ScreenColumn, projection_paths, screen_columns
from trellis.views.shell import Screen, plural_label


@dataclasses.dataclass
class ShownColumn:
    column: BoardColumn
    cards: CardPage
    total_text: str | None
    #: The link to the column's next cards (None: none left).
    more_url: str | None = None

    @property
    def key(self) -> str:
        """The column's value as forms and scripts carry it ("" for blank)."""
        return self.column.value or ""


@dataclasses.dataclass
class BoardPage:
    obj: ObjectSchema
    view: ListView
    board: Board
    boards: list[ListView]
    title: ScreenColumn | None
    fields: list[ScreenColumn]
    columns: list[ShownColumn]
    summary_label: str | None
    #: The reader may move cards: edit the object and the grouping field.
    can_move: bool
    schema: Any
    #: (key, label) of every column, which a card's move form offers.
    targets: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: The columns were counted (else the script asks for ``totals_url``).
    counted: bool = True

    @property
    def plural(self) -> str:
        return plural_label(self.obj)

    @property
    def url(self) -> str:
        return board_url(self.obj, self.view)

    @property
    def totals_url(self) -> str:
        """Where the columns' totals are read once the board is shown."""
        return f"{self.url}/totals"

    @property
    def list_url(self) -> str:
        return f"/o/{self.obj.api_name}?view={self.view.api_name}"

    def card(self, row: dict[str, Any]) -> dict[str, Any]:
        """What one card shows: its title link and each card field's label and value."""
        record_id = str(row["id"])
        url = field_values.record_url(self.obj.api_name, record_id)
        name = ""
        if self.title is not None:
            name = self.title.text(self.title.value(row), self._display(self.title))
        values = [
            (column.label, Markup(self._display(column)(column.value(row))))
            for column in self.fields
        ]
        group = row.get(self.board.group_by)
        return {
            "id": record_id,
            "url": url,
            "name": name or "Untitled",
            "version": row.get("version"),
            "value": "" if group is None else str(group),
            "values": values,
        }

    def _display(self, column: ScreenColumn) -> field_values.Display:
        return field_values.displayer(self.schema, column.field)


def board_url(obj: ObjectSchema, view: ListView) -> str:
    return f"/o/{obj.api_name}/board/{view.api_name}"


def board_views(current: Screen, obj: ObjectSchema) -> tuple[list[ListView], list[ListView]]:
    """Every view the reader may pick (as stored) and, as they see them, those with a
    board they may use."""
    views = visible_views(current.connection, current.access, obj)
    shown = [for_reader(obj, current.schema, current.access, view) for view in views]
    return views, [view for view in shown if view.board is not None]


def find_board(
    current: Screen, obj: ObjectSchema, name: str | None
) -> tuple[ListView, list[ListView]]:
    """The board view named ``name`` (the first board when None), as the reader sees it,
    and the reader's board views; 404 when there is none."""
    views, boards = board_views(current, obj)
    if name is None:
        found = boards[0] if boards else None
    else:
        stored = pick_view(views, name)
        found = for_reader(obj, current.schema, current.access, stored) if stored else None
    if found is None or found.board is None:
        raise NotFound(
            f"{plural_label(obj)} has no board named {name}."
            if name
            else f"{plural_label(obj)} has no board yet.",
            code="unknown_board",
        )
    return found, boards


def _card_columns(
    current: Screen, obj: ObjectSchema, board: Board
) -> tuple[ScreenColumn | None, list[ScreenColumn]]:
    name = readable_name_field(obj, current.access)
    paths = [path for path in board.card_fields if path != name]
    shown = screen_columns(obj, current.schema, [ViewColumn(p) for p in [name, *paths] if p])
    title = shown[0] if name else None
    return title, shown[1:] if name else shown


def load_board(
    current: Screen,
    obj: ObjectSchema,
    name: str | None,
    only: str | None = None,
    cursor: str | None = None,
    totals: bool = True,
) -> BoardPage:
    """The board the URL names; with ``only`` (a column's key), that column alone, its
    cards after ``cursor``. Without ``totals`` the columns are not counted: more cards
    appended to a column need none, and a board's first page must not wait for a scan
    of every listed record (the screen reads them from ``totals_url`` after it)."""
    view, boards = find_board(current, obj, name)
    board = view.board
    assert board is not None
    access, schema = current.access, current.schema
    title, fields = _card_columns(current, obj, board)
    paths = projection_paths(obj, schema, access, [c for c in [title, *fields] if c])
    user_id = current.actor.user_id
    listed = (
        column_totals(current, obj, view)
        if totals
        else [(BoardColumn(value, label), None) for value, label in board_values(obj, board)]
    )
    shown = []
    for column, total in listed:
        if only is not None and (column.value or "") != only:
            continue
        arguments = card_arguments(view.filters, board, column.value, user_id, paths, view.sort)
        cards = column_cards(current.connection, access, schema, obj, arguments, cursor)
        shown.append(ShownColumn(column, cards, total))
    if only is not None and not shown:
        raise NotFound(f"The board has no column {only!r}.", code="unknown_board_column")
    page = BoardPage(
        obj,
        view,
        board,
        boards,
        title,
        fields,
        shown,
        _label(obj.fields[board.summary_field]) if board.summary_field else None,
        access.rights.has(obj.api_name, "edit") and access.can_edit_field(obj, board.group_by),
        schema,
        [(column.value or "", column.label) for column, _ in listed],
        totals,
    )
    for each in shown:
        if each.cards.next_cursor:
            each.more_url = column_url(page, each.key, each.cards.next_cursor)
    return page


def column_totals(
    current: Screen, obj: ObjectSchema, view: ListView
) -> list[tuple[BoardColumn, str | None]]:
    """Each column of the view's board and its sum as the summary field shows values
    (None without one)."""
    board = view.board
    assert board is not None
    schema = current.schema
    arguments = filter_arguments(view.filters, current.actor.user_id)
    totals = board_totals(current.connection, current.access, schema, obj, board, arguments)
    if board.summary_field is None:
        return [(column, None) for column in totals]
    display = field_values.displayer(schema, obj.fields[board.summary_field])
    return [(column, Markup(display(column.total or 0)).striptags()) for column in totals]


def column_url(page: BoardPage, key: str, cursor: str) -> str:
    """The link to a column's cards after ``cursor`` (a page without JavaScript, the
    fragment the board's script appends with it)."""
    return f"{page.url}/column?{urlencode({'value': key, 'cursor': cursor})}"


def _label(field: Any) -> str:
    return str(field.definition.get("label") or field.api_name)
