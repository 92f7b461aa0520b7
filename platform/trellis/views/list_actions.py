"""What a list screen saves (POST, with the session's CSRF token like every form):

- ``/o/<Object>/list/columns``: the reader's columns for a view (which, in what order,
  how wide). The column chooser posts it as a form (its move buttons too, without
  JavaScript); the page's script posts JSON when a column is resized or the chooser's
  order applied.
- ``/o/<Object>/list/views``: "Save as" a new view (private, or shared for those
  allowed), "Save" the view shown, or delete it, with the columns, filters and sort on
  the screen (the form sends the list's URL state).

A form's mistake (an empty name, a name in use) shows the list again with the message,
status 400, and saves nothing.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from trellis.errors import BadRequest, TrellisError
from trellis.metadata.compiled import ObjectSchema
from trellis.records import list_view_store
from trellis.records.list_views import ALL_VIEW, GENERATED, MAX_LABEL
from trellis.views.list_page import ListPage, load_page
from trellis.views.list_screen import screen_context
from trellis.views.shell import Screen, readable_object, screen

blueprint = Blueprint("list_actions", __name__, url_prefix="/o")
# A list URL's query string is short; a longer one sent back by a form is cut there.
MAX_STATE = 4000


def state_args(raw: str, **extra: str) -> MultiDict[str, str]:
    """A list URL's query string (sent back by a form) as arguments, with ``extra``."""
    pairs = [pair for pair in parse_qsl(raw[:MAX_STATE]) if pair[0] not in extra]
    return MultiDict([*pairs, *extra.items()])


def _back(obj: ObjectSchema, args: MultiDict[str, str]) -> str:
    query = urlencode(list(args.items(multi=True)))
    return f"/o/{obj.api_name}" + (f"?{query}" if query else "")


@blueprint.post("/<api_name>/list/columns")
def save_columns(api_name: str) -> ResponseReturnValue:
    """The reader's columns for a view: from the chooser's form, or JSON from the page's
    script (``{"view", "columns": [{"field", "width"}]}``, answered 204)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest("Send the columns as a JSON object.", code="malformed_json")
        with screen() as current:
            obj = readable_object(current, api_name)
            view = body.get("view")
            if not isinstance(view, str):
                raise BadRequest("Name the view.", fields={"view": "Required."})
            list_view_store.save_column_choice(
                current.connection, current.access, obj, view, body.get("columns")
            )
        return "", 204
    form = request.form
    with screen() as current:
        obj = readable_object(current, api_name)
        view = form.get("view", ALL_VIEW)
        back = state_args(form.get("state", ""))
        if "reset" in form:
            list_view_store.forget_column_choice(current.connection, current.access, obj, view)
            return redirect(_back(obj, back), 303)
        columns = chosen_columns(form)
        if not columns:
            return refused_list(current, obj, back, "Choose at least one column.", "columns")
        try:
            list_view_store.save_column_choice(
                current.connection, current.access, obj, view, columns
            )
        except TrellisError as error:
            return refused_list(current, obj, back, error.message, "columns")
    if "move" in form:  # keep the chooser open for the next move
        back = state_args(form.get("state", ""), panel="columns")
    return redirect(_back(obj, back), 303)


def chosen_columns(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The chooser's ticked columns in its order (after the move its button asked
    for), each with the width it had."""
    order = form.getlist("order")
    move = form.get("move", "")
    path, _, direction = move.rpartition(":")
    if path in order:
        index = order.index(path)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
    ticked = set(form.getlist("column"))
    columns = []
    for name in order:
        if name in ticked:
            width = form.get(f"width.{name}", "")
            columns.append({"field": name, "width": int(width) if width.isdigit() else None})
    return columns


def refused_list(
    current: Screen, obj: ObjectSchema, args: MultiDict[str, str], message: str, panel: str
) -> ResponseReturnValue:
    """The list again, with what was wrong with the form, and nothing saved."""
    page: ListPage = load_page(current, obj, state_args("", **{**args.to_dict(), "panel": panel}))
    page.errors["form"] = message
    return render_template("lists/list.html", **screen_context(current, page)), 400


@blueprint.post("/<api_name>/list/views")
def save_view(api_name: str) -> ResponseReturnValue:
    """Save as a new view, save the view shown, or delete it (``action``)."""
    form = request.form
    action = form.get("action", "")
    with screen() as current:
        obj = readable_object(current, api_name)
        args = state_args(form.get("state", ""))
        page = load_page(current, obj, args)
        if page.errors:  # the screen's own state is wrong: nothing to save
            return refused_list(
                current, obj, args, "Fix the filters before saving the view.", "save"
            )
        try:
            target = _apply(current, obj, page, action, form)
        except TrellisError as error:
            details = "; ".join(message for each in error.fields.values() for message in each)
            message = f"{error.message} {details}".strip() if details else error.message
            return refused_list(current, obj, args, message, "save")
    return redirect(target, 303)


def _apply(
    current: Screen, obj: ObjectSchema, page: ListPage, action: str, form: MultiDict[str, str]
) -> str:
    """Carry out a save form's action; where to go next."""
    connection, access, view = current.connection, current.access, page.state.view
    definition = {
        "columns": [column.to_json() for column in page.view_columns],
        "filters": [each.to_json() for each in page.state.filters],
        "sort": page.state.sort,
    }
    if action == "save_as":
        label = form.get("label", "").strip()
        shared = form.get("visibility") == "shared"
        body = {
            "api_name": _free_name(current, obj, label),
            "label": label,
            "visibility": "shared" if shared else "private",
            **definition,
        }
        saved = list_view_store.create_view(connection, access, obj, body)
        flash(f"Saved the view “{saved.label}”.")
        return f"/o/{obj.api_name}?{urlencode({'view': saved.api_name})}"
    if action == "save":
        saved = list_view_store.update_view(connection, access, obj, view.api_name, definition)
        list_view_store.forget_column_choice(connection, access, obj, view.api_name)
        flash(f"Saved the view “{saved.label}”.")
        return _back(
            obj, MultiDict({"view": saved.api_name}) if saved.api_name != ALL_VIEW else MultiDict()
        )
    if action == "delete":
        list_view_store.delete_view(connection, access, obj, view.api_name)
        flash(f"Deleted the view “{view.label}”.")
        return f"/o/{obj.api_name}"
    raise BadRequest("Save as, save or delete.", fields={"action": "Unknown action."})


def _free_name(current: Screen, obj: ObjectSchema, label: str) -> str:
    """An api_name for a view saved by label (``Big deals`` → ``big_deals``), not yet in
    use among the views the reader knows."""
    if not label or len(label) > MAX_LABEL:
        raise BadRequest(
            f"Name the view in 1 to {MAX_LABEL} characters.", fields={"label": "Required."}
        )
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:50] or "view"
    if not base[0].isalpha():
        base = f"view_{base}"
    taken = {
        view.api_name.lower()
        for view in list_view_store.visible_views(current.connection, current.access, obj)
    } | set(GENERATED)
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name
