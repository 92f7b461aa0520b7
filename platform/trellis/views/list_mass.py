"""Mass actions and export from a list screen (POST, with the session's CSRF token):

- ``POST /o/<Object>/list/mass``: the list's form, naming the records ticked (or the
  page, or every record matching the view: trellis.views.list_selection) and the action.
  Edit shows a form of the fields the reader may edit, one widget per type as the
  record form has, each with a "Change" box; change owner a choice of user; delete a
  confirmation saying how many records; export answers the records as a CSV file.
- ``POST /o/<Object>/list/mass/apply``: carries the action out through the records
  service (trellis.records.batch), each record on its own, and shows a summary: how
  many were changed and, for each refused record, why.
- ``GET /o/<Object>/list/export``: the list in its URL's state (filters, search,
  columns, order) as a CSV file.

Every step works as a plain form; list_mass.js ticks boxes quicker.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from trellis.errors import BadRequest, TrellisError
from trellis.identity.users import list_users
from trellis.metadata.compiled import ObjectSchema
from trellis.records.batch import mass_action, record_names
from trellis.records.service import RecordService
from trellis.views.form_model import RecordForm, control_for
from trellis.views.list_actions import refused_list, state_args
from trellis.views.list_selection import Selection, export_response, selection
from trellis.views.shell import Screen, plural_label, readable_object, screen
from trellis.views.widgets import read_input, record_value, widget_for

blueprint = Blueprint("list_mass", __name__, url_prefix="/o")
ACTIONS = {"edit": "Edit", "owner": "Change owner", "delete": "Delete", "export": "Export"}
# How many names the delete confirmation lists before "and N more".
NAMED = 10


def _action(form: MultiDict[str, str]) -> str:
    action = form.get("action", "")
    if action not in ACTIONS:
        raise BadRequest(
            "Edit, change owner, delete or export.", fields={"action": "Unknown action."}
        )
    return action


@blueprint.get("/<api_name>/list/export")
def export_view(api_name: str) -> ResponseReturnValue:
    """The list in the URL's state as a CSV file."""
    with screen(with_shell=False) as current:
        obj = readable_object(current, api_name)
        return export_response(current, obj, request.args)


@blueprint.post("/<api_name>/list/mass")
def mass_form(api_name: str) -> ResponseReturnValue:
    """The next step of a mass action: its form or confirmation (or the export)."""
    form = request.form
    with screen() as current:
        obj = readable_object(current, api_name)
        action = _action(form)
        try:
            chosen = selection(current, obj, form)
        except BadRequest as error:
            return refused_list(current, obj, state_args(form.get("state", "")), error.message, "")
        if action == "export":
            ids = None if chosen.whole_view else chosen.ids
            return export_response(current, obj, state_args(chosen.state), ids)
        return _step(current, obj, action, chosen)


def _step(
    current: Screen,
    obj: ObjectSchema,
    action: str,
    chosen: Selection,
    typed: dict[str, Any] | None = None,
    error: str | None = None,
) -> tuple[str, int]:
    """The form of an edit or owner change, or a delete's confirmation."""
    context: dict[str, Any] = {}
    if action == "edit":
        editable = RecordForm(current, obj).editable_fields()
        if not editable:
            raise BadRequest(f"You may not edit any field of {plural_label(obj).lower()}.")
        context["controls"] = [
            control_for(current, obj, field, (typed or {}).get(field.api_name), prefix="mass")
            for field in editable
        ]
        context["changing"] = set((typed or {}).keys())
    elif action == "owner":
        context["owners"] = [user for user in list_users(current.connection) if user.active]
    else:
        service = _service(current, obj)
        names = _names(service, chosen)
        context["names"] = names[:NAMED]
        context["more"] = len(chosen.ids) - len(context["names"])
    html = render_template(
        "lists/mass.html",
        obj=obj,
        plural=plural_label(obj),
        action=action,
        title=ACTIONS[action],
        chosen=chosen,
        count=len(chosen.ids),
        error=error,
        **context,
    )
    return html, 400 if error else 200


def _service(current: Screen, obj: ObjectSchema) -> RecordService:
    return RecordService(
        current.connection, current.actor, current.schema, obj, access=current.access
    )


def _names(service: RecordService, chosen: Selection) -> list[str]:
    found = record_names(service, chosen.ids[:NAMED])
    return [found.get(record_id, "Untitled") for record_id in chosen.ids[:NAMED]]


@blueprint.post("/<api_name>/list/mass/apply")
def apply(api_name: str) -> ResponseReturnValue:
    """Carry a mass action out, each record on its own, and show what happened."""
    form = request.form
    with screen() as current:
        obj = readable_object(current, api_name)
        action = _action(form)
        chosen = selection(current, obj, form)
        values: dict[str, Any] = {}
        if action == "edit":
            typed = _typed(current, obj, form)
            if not typed:
                return _step(current, obj, action, chosen, None, "Choose a field to change.")
            values = {
                name: record_value(widget_for(obj.field(name)), value)
                for name, value in typed.items()
            }
        elif action == "owner":
            values = {"owner_id": form.get("owner_id") or None}
        try:
            summary = mass_action(_service(current, obj), action, chosen.ids, values)
        except TrellisError as error:
            return _step(current, obj, action, chosen, None, error.message)
        return render_template(
            "lists/mass_summary.html",
            obj=obj,
            plural=plural_label(obj),
            summary=summary,
            title=ACTIONS[action],
            back=f"/o/{obj.api_name}" + (f"?{chosen.state}" if chosen.state else ""),
        )


def _typed(current: Screen, obj: ObjectSchema, form: MultiDict[str, str]) -> dict[str, Any]:
    """The fields ticked "Change", as their widgets sent them (editable ones only)."""
    ticked = {name.lower() for name in form.getlist("change")}
    return {
        field.api_name: read_input(widget_for(field), form, field.api_name)
        for field in RecordForm(current, obj).editable_fields()
        if field.api_name.lower() in ticked
    }
