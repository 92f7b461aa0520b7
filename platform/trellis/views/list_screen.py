"""The list screen, ``/o/<Object>?view=<api_name>`` (its URL rule is in
trellis.views.objects), and what its script asks for under ``/o/<Object>/list/``:

- ``rows``: the results (table, pager) of the same URL state, as an HTML fragment, for
  the type-ahead search and the pager;
- ``count``: ``{"total": n}``, the count the page shows once it has loaded, so a page
  never waits for a count over a million records.

Everything works without JavaScript: the filter panel is a GET form whose answer is a
redirect to the URL naming its filters, the search a GET form, sort and pages links.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from trellis.errors import NotFound
from trellis.metadata.compiled import ObjectSchema
from trellis.views.import_screen import may_import
from trellis.views.list_columns import chooser_items, table_body
from trellis.views.list_filters import describe, filter_panel, panel_filters, sort_choice
from trellis.views.list_page import ListPage, load_page, view_and_state, view_groups
from trellis.views.list_page import count_rows as count_of
from trellis.views.list_state import PAGE_SIZES
from trellis.views.shell import Screen, readable_object, screen

blueprint = Blueprint("list_screen", __name__, url_prefix="/o")
# How the page's messages name the parts of the URL they are about ("" for none).
PLACES = {
    "q": "Search",
    "sort": "Sort",
    "limit": "Rows per page",
    "cursor": "",
    "list": "",
    "form": "",
}
# The id of the list's mass action form, which the rows' boxes belong to.
MASS_FORM = "list-mass"
# "Clear filters": the view as saved, with no search.
CLEARED = {"filters": (), "custom_filters": False, "search": ""}


def _is_panel(args: MultiDict[str, str]) -> bool:
    return "apply" in args


def list_page(current: Screen, obj: ObjectSchema) -> ResponseReturnValue:
    """The list screen in the state its URL names (400 with the page and its messages
    when part of the URL is wrong)."""
    if _is_panel(request.args):
        return redirect(applied_url(current, obj, request.args), 303)
    page = load_page(current, obj, request.args)
    return render_template("lists/list.html", **screen_context(current, page)), _status(page)


def _status(page: ListPage) -> int:
    return 400 if page.errors else 200


def screen_context(
    current: Screen, page: ListPage, panels: frozenset[str] | None = None
) -> dict[str, object]:
    """What the list templates show beside the page itself. The panels (filters,
    columns, save) are rendered in ``panels``, by default those the page opens: the one
    its URL names, and the filters when they have errors. The others are fetched when
    opened (:func:`panel`): most page views open none, and the filter panel alone, with
    its options for every field, cost a list page more to build than its rows."""
    state, obj, access = page.state, page.obj, current.access
    chips = []
    for each in state.filters:
        rest = tuple(other for other in state.filters if other != each)
        remove = state.url(page.base_url, filters=rest, custom_filters=rest != state.view.filters)
        chips.append((describe(obj, current.schema, access, each), remove))
    clear = state.narrowed or state.custom_filters
    mass = mass_actions(current, obj)
    opened = set(panels if panels is not None else {state.panel} - {""})
    filters = None
    if "filters" in opened or (panels is None and page.errors):
        shown = (*state.filters, *state.rejected)
        filters = filter_panel(obj, current.schema, access, shown, page.columns, page.errors)
        if any(row.error for row in filters.rows):
            opened.add("filters")
    return {
        "page": page,
        "schema": current.schema,
        "actor": current.actor,
        "can_import": may_import(current, obj),
        "open_panels": frozenset(opened),
        "panel": filters,
        "chooser": chooser_items(obj, current.schema, access, page.view_columns)
        if "columns" in opened
        else None,
        "groups": view_groups(page.views),
        "chips": chips,
        "clear_url": state.url(page.base_url, **CLEARED) if clear else None,
        "messages": [
            message_of(obj, key, message) for key, message in page.errors.items() if key != "form"
        ],
        "form_error": page.errors.get("form"),
        "page_sizes": PAGE_SIZES,
        "mass": mass,
        "table_body": table_body(
            page.columns,
            current.schema,
            obj.api_name,
            page.rows.data,
            MASS_FORM if any(mass.values()) else None,
        ),
    }


def mass_actions(current: Screen, obj: ObjectSchema) -> dict[str, bool]:
    """Which mass actions the list offers the reader (trellis.views.list_mass); the
    records service still decides record by record."""
    rights = current.access.rights
    managed = bool(obj.definition.get("managed_by"))
    return {
        "edit": rights.has(obj.api_name, "edit"),
        "delete": rights.has(obj.api_name, "delete") and not managed,
        "export": current.actor.has_right("export"),
    }


def message_of(obj: ObjectSchema, key: str, message: str) -> str:
    """A problem with part of the page, named as the screen names that part."""
    if key in PLACES:
        return f"{PLACES[key]}: {message}" if PLACES[key] else message
    field = obj.find(key.partition("__")[0])
    label = str(field.definition.get("label") or field.api_name) if field is not None else key
    return f"{label}: {message}"


def applied_url(current: Screen, obj: ObjectSchema, args: MultiDict[str, str]) -> str:
    """Where an applied filter panel goes: the list in the same view, with the panel's
    filters, sort and page size (checked when that URL is shown)."""
    _, state, _, _ = view_and_state(current, obj, args)
    state = state.with_filters(panel_filters(obj, args))
    sort = sort_choice(args)
    changes: dict[str, object] = {}
    if sort is not None and sort != state.sort.split(",")[0]:  # a new first key
        changes.update(sort=sort, custom_sort=sort != state.view.sort)
    return state.url(f"/o/{obj.api_name}", **changes)


@blueprint.get("/<api_name>/list/rows")
def rows(api_name: str) -> ResponseReturnValue:
    """The results of the URL's state, as the fragment the page's script swaps in."""
    with screen() as current:
        page = load_page(current, readable_object(current, api_name), request.args)
        html = render_template("lists/results.html", **screen_context(current, page))
    return html, _status(page)


PANELS = {
    "filters": "lists/filter_body.html",
    "columns": "lists/column_body.html",
    "save": "lists/save_body.html",
}


@blueprint.get("/<api_name>/list/panel/<name>")
def panel(api_name: str, name: str) -> ResponseReturnValue:
    """A panel's body for the URL's state, as the fragment the page's script puts in the
    panel when it first opens."""
    template = PANELS.get(name)
    if template is None:
        raise NotFound(f"No list panel {name!r}.")
    with screen(with_shell=False) as current:
        page = load_page(current, readable_object(current, api_name), request.args)
        html = render_template(template, **screen_context(current, page, frozenset({name})))
    return html, _status(page)


@blueprint.get("/<api_name>/list/count")
def count(api_name: str) -> ResponseReturnValue:
    """``{"total": n}``: how many rows the URL's state lists (null when it is wrong)."""
    with screen() as current:
        total = count_of(current, readable_object(current, api_name), request.args)
    return jsonify({"total": total})
