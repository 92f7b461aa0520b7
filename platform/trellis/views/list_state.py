"""A list screen's state, as its URL carries it, and the list API request it makes.

``/o/<Object>?view=<api_name>`` shows a view (``all`` without one). On top of it:

- ``q``: words looked for in the name field, each of which must appear;
- filters written as the list API writes them (``Amount__gte=5000``, ``Stage=Won``),
  which replace the view's; ``filters=none`` for none at all;
- ``sort``, the API's ``sort=``, replacing the view's; ``limit``, 25 to 200 rows;
- ``cursor`` (the API's: the rows after a row) or ``before`` (the API's cursor of the
  reversed order: the rows before one), and ``start``, the place of the page's first row
  in the list (only shown, never trusted);
- ``count=1``, to count the rows without JavaScript (with it the count comes
  separately, so a page never waits for a count).

Links build on the state (:meth:`ListState.url`), so a sort, a page or a filter chip
keeps everything else.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from trellis.access.gate import Access
from trellis.errors import BadRequest
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.columns import cached_column
from trellis.records.list_view_checks import canonical_sort, parse_filter, reversed_sort
from trellis.records.list_views import ALL_VIEW, ListView, ViewFilter, filter_arguments
from trellis.records.names import readable_name_field
from trellis.records.search import search_words

PARAMETERS = frozenset(
    {"view", "q", "sort", "limit", "cursor", "before", "start", "filters", "count", "panel"}
    | {"sort_field", "sort_dir", "apply"}  # the filter panel's own
)
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_LIMIT = 50
NO_FILTERS = "none"
MAX_START = 10**9


@dataclasses.dataclass(frozen=True)
class ListState:
    view: ListView
    filters: tuple[ViewFilter, ...]
    #: The URL names the filters (else they are the view's).
    custom_filters: bool
    sort: str
    custom_sort: bool
    search: str = ""
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    before: str | None = None
    start: int = 1
    count: bool = False
    #: The panel (filters, columns) to show open, after a form without JavaScript.
    panel: str = ""
    #: Filters the URL names that are wrong (the page says why; links leave them out).
    rejected: tuple[ViewFilter, ...] = ()

    @property
    def words(self) -> list[str]:
        return search_words(self.search)

    @property
    def narrowed(self) -> bool:
        """Whether the rows are fewer than the view's by the user's own doing."""
        return bool(self.search) or (self.custom_filters and self.filters != self.view.filters)

    def query(self, **changes: Any) -> list[tuple[str, str]]:
        """The URL parameters of this state with ``changes`` (a new sort, filters or
        page); a change of anything but the page starts from the first page."""
        if not changes.keys() <= _PAGING_FIELDS:
            changes = {**_FIRST_PAGE, **changes}
        # The fields with the changes, as a mapping: a page builds a dozen links, and
        # dataclasses.replace() for each cost more than writing them.
        state = {**self.__dict__, **changes}
        pairs: list[tuple[str, str]] = []
        if state["view"].api_name != ALL_VIEW:
            pairs.append(("view", state["view"].api_name))
        if state["search"]:
            pairs.append(("q", state["search"]))
        if state["custom_filters"]:
            for each in state["filters"]:
                name = each.field if each.operator == "eq" else each.parameter
                pairs.append((name, each.value))
            if not state["filters"]:
                pairs.append(("filters", NO_FILTERS))
        if state["custom_sort"]:
            pairs.append(("sort", state["sort"]))
        if state["limit"] != DEFAULT_LIMIT:
            pairs.append(("limit", str(state["limit"])))
        pairs += [(name, value) for name, value in _paging(state) if value]
        return pairs

    def url(self, base: str, **changes: Any) -> str:
        pairs = self.query(**changes)
        return f"{base}?{urlencode(pairs)}" if pairs else base

    def with_filters(self, filters: tuple[ViewFilter, ...]) -> ListState:
        return dataclasses.replace(
            self, filters=filters, custom_filters=filters != self.view.filters
        )


_PAGING_FIELDS = frozenset({"cursor", "before", "start", "count", "panel"})
_FIRST_PAGE: dict[str, Any] = {"cursor": None, "before": None, "start": 1, "panel": ""}


def _paging(state: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        ("cursor", state["cursor"]),
        ("before", state["before"]),
        ("start", str(state["start"]) if state["start"] > 1 else None),
        ("count", "1" if state["count"] else None),
        ("panel", state["panel"] or None),
    ]


def parse_state(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    view: ListView,
    args: MultiDict[str, str],
) -> tuple[ListState, dict[str, str]]:
    """The state a URL asks for, and a message for each part that is wrong (left out of
    the state, so the page still shows what it can)."""
    errors: dict[str, str] = {}
    search = args.get("q", "").strip()
    try:
        search_words(search)
    except BadRequest as error:
        errors["q"], search = error.message, ""
    filters, rejected, custom = url_filters(obj, schema, access, args, errors)
    sort, custom_sort = view.sort, "sort" in args
    if custom_sort:
        try:
            sort = canonical_sort(obj, schema, access, args.get("sort", ""))
        except BadRequest as error:
            errors["sort"], custom_sort = error.message, False
    limit = DEFAULT_LIMIT
    if "limit" in args:
        if args["limit"] in {str(size) for size in PAGE_SIZES}:
            limit = int(args["limit"])
        else:
            errors["limit"] = "Show 25, 50, 100 or 200 rows."
    cursor, before = args.get("cursor") or None, args.get("before") or None
    if cursor and before:
        errors["cursor"], cursor, before = (
            "A page is after a row or before one, not both.",
            None,
            None,
        )
    start = args.get("start", "1")
    state = ListState(
        view,
        filters if custom else view.filters,
        custom,
        sort,
        custom_sort,
        search,
        limit,
        cursor,
        before,
        int(start) if start.isascii() and start.isdigit() and 0 < int(start) < MAX_START else 1,
        args.get("count") in {"1", "true"},
        args.get("panel", "") if args.get("panel") in {"filters", "columns", "save"} else "",
        rejected,
    )
    return state, errors


def url_filters(
    obj: ObjectSchema,
    schema: TenantSchema,
    access: Access,
    args: MultiDict[str, str],
    errors: dict[str, str],
) -> tuple[tuple[ViewFilter, ...], tuple[ViewFilter, ...], bool]:
    """The filters the URL names, each checked as a view's filter is; those that are
    wrong (with a message in ``errors``); and whether it names any (``filters=none``
    names none at all)."""
    keys = [key for key in args if key not in PARAMETERS and "." not in key and key != "csrf_token"]
    filters, rejected = [], []
    for key in keys:
        name, _, operator = key.partition("__")
        for value in args.getlist(key):
            item = {"field": name, "operator": operator or "eq", "value": value}
            try:
                filters.append(parse_filter(obj, schema, access, item))
            except BadRequest as error:
                errors[key] = error.message
                rejected.append(ViewFilter(name, operator or "eq", value))
    return tuple(filters), tuple(rejected), bool(keys) or args.get("filters") == NO_FILTERS


def search_field(obj: ObjectSchema, schema: TenantSchema, access: Access) -> str | None:
    """The name field, when the reader may read it and search it by its words."""
    name = readable_name_field(obj, access)
    if name is None:
        return None
    return name if "contains" in cached_column(obj, schema, access, name).operators else None


def api_arguments(
    state: ListState,
    paths: list[str],
    search_in: str | None,
    user_id: uuid.UUID | None,
    sort_names: list[str],
) -> dict[str, list[str]]:
    """The list API request of a page in this state: its filters and search words, the
    sort (reversed for the rows before a row), the fields the columns show and the sort
    reads (a page's cursors are made from its rows), the page size and cursor."""
    arguments = filter_arguments(state.filters, user_id)
    if state.search and search_in is not None:
        arguments.setdefault(f"{search_in}__contains", []).extend(state.words)
    arguments["sort"] = [reversed_sort(state.sort) if state.before else state.sort]
    arguments["fields"] = [",".join(dict.fromkeys([*paths, *sort_names]))]
    arguments["limit"] = [str(state.limit)]
    if state.cursor or state.before:
        arguments["cursor"] = [str(state.cursor or state.before)]
    if state.count:
        arguments["count"] = ["true"]
    return arguments


def sort_keys(sort: str) -> list[tuple[str, bool]]:
    """``-Amount,Name`` as ``[("Amount", True), ("Name", False)]``."""
    return [(key.lstrip("-"), key.startswith("-")) for key in sort.split(",")]
