"""One page of a list screen: the view, its rows read through the list query exactly as
the REST API reads them, and the links to the pages before and after.

Paging is keyset both ways. The next page is the API's ``next_cursor``; the page before
is the API's list in the reversed order after the page's first row (its cursor made
from that row's sort values, which the page asks ``fields=`` for), turned back round.
A page reached backwards with nothing before it is the first page, read again from the
top so that it is full.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import json
from typing import Any
from urllib.parse import quote_plus

from werkzeug.datastructures import MultiDict

from trellis.errors import BadRequest, NotFound
from trellis.metadata.compiled import ObjectSchema
from trellis.records.cursors import cursor_value, encode_cursor
from trellis.records.list_view_checks import for_reader, reversed_sort
from trellis.records.list_view_store import may_share, pick_view, views_and_choice
from trellis.records.list_views import ALL_VIEW, ListView, ViewColumn
from trellis.records.query import list_page, parse_list_request
from trellis.views.list_columns import ScreenColumn, projection_paths, screen_columns
from trellis.views.list_state import ListState, api_arguments, parse_state, search_field, sort_keys
from trellis.views.shell import Screen, plural_label

STALE_PAGE = "That page link is out of date; here is the first page."
# Where the sort links' value goes while their URL is written once (urlencode keeps it).
_SORT_MARK = "SORT-MARK"


@dataclasses.dataclass
class Rows:
    data: list[dict[str, Any]]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    total: int | None = None


@dataclasses.dataclass
class ListPage:
    obj: ObjectSchema
    base_url: str
    state: ListState
    views: list[ListView]
    view_columns: tuple[ViewColumn, ...]
    chosen_columns: bool
    columns: list[ScreenColumn]
    rows: Rows
    errors: dict[str, str]
    search_in: str | None
    can_create: bool
    can_share: bool

    @property
    def plural(self) -> str:
        return plural_label(self.obj)

    @property
    def last(self) -> int:
        return self.state.start + len(self.rows.data) - 1

    @property
    def can_save(self) -> bool:
        """Whether "Save" may change the view shown (else only "Save as")."""
        return self.can_share if self.state.view.shared else True

    @property
    def row_ids(self) -> str:
        """The page's record ids, space-separated: the mass form's "Select all" names
        them in one field (one value to write, not a field per row)."""
        return " ".join(row["id"] for row in self.rows.data)

    @functools.cached_property
    def next_url(self) -> str | None:
        cursor = self.rows.next_cursor
        if cursor is None:
            return None
        return self.state.url(self.base_url, cursor=cursor, before=None, start=self.last + 1)

    @functools.cached_property
    def previous_url(self) -> str | None:
        cursor = self.rows.previous_cursor
        if cursor is None:
            return None
        start = max(1, self.state.start - self.state.limit)
        return self.state.url(self.base_url, before=cursor, cursor=None, start=start)

    @functools.cached_property
    def _first_sort_key(self) -> tuple[str, bool]:
        return sort_keys(self.state.sort)[0]

    @functools.cached_property
    def _sort_link(self) -> tuple[str, str]:
        """The sort links' URL before and after its sort value. The links differ in that
        alone (each starts from the first page), and writing each whole was most of the
        table header's time. The sort comes after the search and filters, and only the
        page size (digits) after it, so the last mark found is the sort's own."""
        url = self.state.url(self.base_url, sort=_SORT_MARK, custom_sort=True)
        head, _, tail = url.rpartition(f"sort={_SORT_MARK}")
        return f"{head}sort=", tail

    def sort_url(self, column: ScreenColumn) -> str:
        """Sort by the column; again, the other way round."""
        ascending_now = self._first_sort_key == (column.sort_name, False)
        sort = f"-{column.sort_name}" if ascending_now else str(column.sort_name)
        head, tail = self._sort_link
        return f"{head}{quote_plus(sort)}{tail}"

    def aria_sort(self, column: ScreenColumn) -> str | None:
        name, descending = self._first_sort_key
        if column.sort_name != name:
            return None
        return "descending" if descending else "ascending"


def view_groups(views: list[ListView]) -> list[tuple[str, list[ListView]]]:
    """The view picker's groups: the shared views, then the reader's own."""
    groups = [
        ("Shared views", [view for view in views if view.shared]),
        ("My views", [view for view in views if not view.shared]),
    ]
    return [(title, members) for title, members in groups if members]


def view_and_state(
    current: Screen, obj: ObjectSchema, args: MultiDict[str, str]
) -> tuple[list[ListView], ListState, dict[str, str], tuple[ViewColumn, ...] | None]:
    """The views the reader may pick, the state the URL asks for in one of them, what is
    wrong in the URL, and the columns the reader chose for that view (if any)."""
    name = args.get("view") or ALL_VIEW
    views, choice = views_and_choice(current.connection, current.access, obj, name)
    stored = pick_view(views, name)
    if stored is None:
        raise NotFound(
            f"{plural_label(obj)} has no list view named {name}.", code="unknown_list_view"
        )
    view = for_reader(obj, current.schema, current.access, stored)
    state, errors = parse_state(obj, current.schema, current.access, view, args)
    return views, state, errors, choice


def load_page(current: Screen, obj: ObjectSchema, args: MultiDict[str, str]) -> ListPage:
    """The page the URL's arguments ask for; what is wrong in them is in ``errors``."""
    views, state, errors, choice = view_and_state(current, obj, args)
    view_columns = choice or state.view.columns
    columns = screen_columns(obj, current.schema, view_columns)
    state, rows = fetch_rows(current, obj, state, columns, errors)
    return ListPage(
        obj,
        f"/o/{obj.api_name}",
        state,
        views,
        view_columns,
        choice is not None,
        columns,
        rows,
        errors,
        search_field(obj, current.schema, current.access),
        current.access.rights.has(obj.api_name, "create"),
        may_share(current.actor),
    )


def fetch_rows(
    current: Screen,
    obj: ObjectSchema,
    state: ListState,
    columns: list[ScreenColumn],
    errors: dict[str, str],
) -> tuple[ListState, Rows]:
    """The state's page of rows (and the state it ended up at: the first page when the
    one asked for has no rows before it, or its link is out of date)."""
    access, schema = current.access, current.schema
    paths = projection_paths(obj, schema, access, columns)
    search_in = search_field(obj, schema, access)
    sort_names = [name for name, _ in sort_keys(state.sort)]
    arguments = api_arguments(state, paths, search_in, current.actor.user_id, sort_names)
    first_page = dataclasses.replace(state, cursor=None, before=None, start=1)
    try:
        request = parse_list_request(obj, schema, access, arguments)
        text = list_page(current.connection, access, schema, obj, request)
    except BadRequest as error:
        if state.cursor or state.before:  # a cursor of another sort, or tampered with
            errors["cursor"] = STALE_PAGE
            return fetch_rows(current, obj, first_page, columns, errors)
        errors["list"] = error.message
        return state, Rows([])
    body = json.loads(text, parse_float=decimal.Decimal)
    data, names = body["data"], [column.name for column, _ in request.sort]
    if state.before:
        if body["next_cursor"] is None or not data:  # nothing before these rows
            return fetch_rows(current, obj, first_page, columns, errors)
        data.reverse()
        return state, Rows(
            data,
            row_cursor(state.sort, names, data[-1]),
            row_cursor(reversed_sort(state.sort), names, data[0]),
            body.get("total"),
        )
    previous = (
        row_cursor(reversed_sort(state.sort), names, data[0]) if state.cursor and data else None
    )
    return state, Rows(data, body["next_cursor"], previous, body.get("total"))


def row_cursor(sort: str, names: list[str], row: dict[str, Any]) -> str:
    """The list API's cursor after ``row`` in the order ``sort`` (whose keys, with the
    tie-breaking id, are ``names``), from the row's own values."""
    values = []
    for name in names:
        value = row.get(name)
        if isinstance(value, dict):  # a lookup shown by name sorts by its id
            value = value.get("id")
        values.append(cursor_value(value))
    return encode_cursor(sort, values)


def count_rows(current: Screen, obj: ObjectSchema, args: MultiDict[str, str]) -> int | None:
    """How many rows the list in the URL's state has (the list API's ``count=true``, with
    a one-row page), for the count a page shows once it has loaded; None when the URL is
    wrong (the page says how)."""
    _, state, errors, _ = view_and_state(current, obj, args)
    if errors:
        return None
    counted = dataclasses.replace(state, cursor=None, before=None, count=True)
    search_in = search_field(obj, current.schema, current.access)
    arguments = api_arguments(counted, ["id"], search_in, current.actor.user_id, [])
    arguments["limit"] = ["1"]
    request = parse_list_request(obj, current.schema, current.access, arguments)
    text = list_page(current.connection, current.access, current.schema, obj, request)
    total: int = json.loads(text)["total"]
    return total
