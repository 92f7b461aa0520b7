"""The board screen: a list view with a board part shown as a kanban board.

- ``GET /o/<Object>/board`` (the reader's first board) and ``/o/<Object>/board/<view>``:
  a column per value of the grouping picklist (then "None"), each with its first cards;
  its count and the sum of the board's number field come after the page, as the list's
  count does, from
- ``GET …/board/<view>/totals``: ``{"columns": [{"value", "count", "total"}]}``, what
  board.js writes into the columns' headings; without JavaScript the board's "Count
  the columns" link asks for the board with them (``?count=1``);
- ``GET …/board/<view>/column?value=<value>&cursor=…``: a column's next cards, as a
  page of its own without JavaScript, as the fragment board.js appends with it;
- ``POST …/board/<view>/move``: a card moved to another column, saved through the
  records service as an edit of the grouping field with the version the card showed
  (validation rules, field-level security, sharing, history and automations hold). A
  form without JavaScript is answered with the board again and what happened; a
  script asking for JSON gets the card's new version and the columns' new totals, or
  ``ok: false`` with the message that says why the move was refused.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue

from trellis.errors import BadRequest, Forbidden, PreconditionFailed, TrellisError, wants_json
from trellis.metadata.compiled import ObjectSchema
from trellis.records.boards import BoardColumn, board_values
from trellis.views.board_page import BoardPage, board_url, column_totals, find_board, load_board
from trellis.views.record_data import service_for
from trellis.views.record_edits import attempt, messages, version_sent
from trellis.views.record_page import wants_fragment
from trellis.views.shell import Screen, plural_label, readable_object, screen

blueprint = Blueprint("boards", __name__, url_prefix="/o")


@blueprint.get("/<api_name>/board")
def first_board(api_name: str) -> ResponseReturnValue:
    """The reader's first board, or a page saying the object has none yet."""
    with screen() as current:
        obj = readable_object(current, api_name)
        try:
            view, _ = find_board(current, obj, None)
        except TrellisError:
            return render_template(
                "boards/none.html",
                obj=obj,
                plural=plural_label(obj),
                may_build=current.actor.has_right("manage_metadata"),
            ), 404
    return redirect(board_url(obj, view), 303)


@blueprint.get("/<api_name>/board/<view_name>")
def board(api_name: str, view_name: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
        counted = request.args.get("count") in {"1", "true"}
        page = load_board(current, obj, view_name, totals=counted)
        return render_template("boards/board.html", page=page, **_context(current, page))


@blueprint.get("/<api_name>/board/<view_name>/totals")
def totals(api_name: str, view_name: str) -> ResponseReturnValue:
    """Each column's count and sum as JSON, for the board the page has shown."""
    with screen() as current:
        obj = readable_object(current, api_name)
        view, _ = find_board(current, obj, view_name)
        return jsonify({"columns": _columns(column_totals(current, obj, view))})


def _columns(totals: list[tuple[BoardColumn, str | None]]) -> list[dict[str, Any]]:
    """The columns' totals as board.js reads them (after a load and after a move)."""
    return [
        {"value": column.value or "", "count": column.count, "total": total}
        for column, total in totals
    ]


@blueprint.get("/<api_name>/board/<view_name>/column")
def column(api_name: str, view_name: str) -> ResponseReturnValue:
    """One column's cards after the cursor: the fragment board.js appends, or a page."""
    with screen() as current:
        obj = readable_object(current, api_name)
        key, cursor = request.args.get("value", ""), request.args.get("cursor") or None
        fragment = wants_fragment("cards")
        page = load_board(current, obj, view_name, key, cursor, totals=not fragment)
        template = "boards/cards.html" if fragment else "boards/column.html"
        return render_template(template, page=page, shown=page.columns[0])


def _context(current: Screen, page: BoardPage) -> dict[str, Any]:
    return {"may_build": current.actor.has_right("manage_metadata")}


@blueprint.post("/<api_name>/board/<view_name>/move")
def move(api_name: str, view_name: str) -> ResponseReturnValue:
    """Move a card to the column the form names (``value``; empty for "None")."""
    record_id, key = request.form.get("record", ""), request.form.get("value", "")
    with screen() as current:
        obj = readable_object(current, api_name)
        view, _ = find_board(current, obj, view_name)
        board = view.board
        assert board is not None
        if key not in {value or "" for value, _ in board_values(obj, board)}:
            raise BadRequest(f"The board has no column {key!r}.", fields={"value": ["Unknown."]})
        refused, version = _save_move(current, obj, record_id, board.group_by, key or None)
        totals = column_totals(current, obj, view) if refused is None else []
    name = request.form.get("name") or "The record"
    if refused is not None:
        said = " ".join(messages(refused, board.group_by))
        if wants_json():
            # Answered as the record page answers a refused edit in place: the screen's
            # own outcome to show (the card goes back), with the status it would have.
            status = 409 if isinstance(refused, PreconditionFailed) else refused.status
            return jsonify({"ok": False, "status": status, "code": refused.code, "error": said})
        flash(f"{name} was not moved. {said}")
        return redirect(board_url(obj, view), 303)
    if wants_json():
        return jsonify({"ok": True, "version": version, "columns": _columns(totals)})
    label = next(column.label for column, _ in totals if (column.value or "") == key)
    flash(f"{name} moved to {label}.")
    return redirect(board_url(obj, view), 303)


def _save_move(
    current: Screen, obj: ObjectSchema, record_id: str, field: str, value: str | None
) -> tuple[TrellisError | None, int | None]:
    """Save the grouping field's new value as an edit does: the error that refused it
    (no edit right on this record included) or the record's new version."""
    saved: list[Any] = []

    def write() -> None:
        service = service_for(current, obj)
        saved.append(service.update(record_id, {field: value}, expected_version=version_sent()))

    try:
        refused = attempt(current, write)
    except Forbidden as error:
        return error, None
    return refused, (saved[0].get("version") if saved else None)
