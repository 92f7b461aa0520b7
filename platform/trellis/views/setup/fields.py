"""Adding and changing a field in Setup: the form adapts to the chosen type
(trellis.views.setup.field_form); a new field is added through
MetadataService.add_field (as ``POST .../fields``), a changed one saved through the
service with the confirmation a type change needs (trellis.views.setup.field_save).

Without JavaScript a changed type, a moved picklist value or Back on the confirmation
submit the form, which comes back as typed (for the new type) and saves nothing."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from trellis.errors import Conflict, NotFound, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.state import get_state
from trellis.views.setup.changes import after_change, metadata_service, savepoint
from trellis.views.setup.field_form import (
    FieldForm,
    build_form,
    common_part,
    fill,
    has_errors,
    read,
    show_errors,
)
from trellis.views.setup.field_impact import Impact
from trellis.views.setup.field_save import save_field
from trellis.views.setup.naming import RIGHT
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = ()  # pages of the Objects section
# Form buttons that redraw the form rather than save it.
REDRAW = ("_retype", "_move", "_back")


def _registry() -> FieldTypeRegistry:
    return get_state().metadata_cache.registry


def _type(registry: FieldTypeRegistry, chosen: str | None, fallback: str | None) -> str:
    if chosen in registry:
        return str(chosen)
    if fallback in registry:
        return str(fallback)
    return "text" if "text" in registry else registry.names()[0]


def _render(form: FieldForm, status: int = 200) -> ResponseReturnValue:
    return render_template("setup/objects/field_form.html", form=form, obj=form.obj), status


def _check(form: FieldForm, field: dict[str, Any]) -> None:
    label = form.control("label")
    if label is not None and not field.get("label"):
        label.errors.append("Give the field a label.")


def _saved(obj: ObjectSchema, message: str) -> ResponseReturnValue:
    flash(message)
    return redirect(url_for("setup.object_detail", api_name=obj.api_name), 303)


@blueprint.route("/objects/<api_name>/fields/new", methods=["GET", "POST"])
def new_field(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        source: MultiDict[str, str] = request.form if request.method == "POST" else request.args
        form = build_form(
            current.schema, obj, _registry(), None, _type(_registry(), source.get("type"), None)
        )
        if request.method == "GET":
            fill(form, {})
            return _render(form)
        field = read(form, request.form)
        if any(key in request.form for key in REDRAW):
            return _render(form)
        _check(form, field)
        if has_errors(form):
            return _render(form, 422)
        try:
            with savepoint(current):
                metadata_service(current).add_field(obj.api_name, field)
        except (ValidationError, Conflict) as error:
            show_errors(form, error.fields, error.message)
            return _render(form, error.status)
        response = _saved(obj, f"Added the field {field['label']}.")
    after_change(current)
    return response


def _existing(obj: ObjectSchema, field_name: str) -> dict[str, Any]:
    field = obj.definition_field(field_name)
    if field.get("deleted"):
        raise NotFound(f"{obj.api_name} has no field {field_name!r}.")
    return field


def _confirmed(posted: MultiDict[str, str]) -> int | None:
    """The number of removed values the admin confirmed; None when not confirmed."""
    raw = posted.get("_misfits", "")
    if posted.get("_confirm") != "yes" or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


@blueprint.route("/objects/<api_name>/fields/<field_name>", methods=["GET", "POST"])
def edit_field(api_name: str, field_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        existing = _existing(obj, field_name)
        source: MultiDict[str, str] = request.form if request.method == "POST" else request.args
        type_name = _type(_registry(), source.get("type"), existing["type"])
        form = build_form(current.schema, obj, _registry(), existing, type_name)
        if request.method == "GET":
            fill(form, common_part(existing) if form.type_changed else existing)
            return _render(form)
        field = read(form, request.form)
        if any(key in request.form for key in REDRAW):
            return _render(form)
        _check(form, field)
        if has_errors(form):
            return _render(form, 422)
        try:
            impact = save_field(
                current,
                obj,
                field,
                type_changed=form.type_changed,
                confirmed_misfits=_confirmed(request.form),
            )
        except (ValidationError, Conflict) as error:
            show_errors(form, error.fields, error.message)
            return _render(form, error.status)
        if impact is not None:
            return _confirmation(form, impact)
        response = _saved(obj, f"Saved the field {field.get('label') or field['api_name']}.")
    after_change(current)
    return response


def _confirmation(form: FieldForm, impact: Impact) -> ResponseReturnValue:
    """The page that says what the change does to stored values, carrying the form."""
    carried = [
        (key, value)
        for key, value in request.form.items(multi=True)
        if key not in {"csrf_token", "_confirm", "_misfits", *REDRAW}
    ]
    repeated = request.form.get("_confirm") == "yes"
    return (
        render_template(
            "setup/objects/field_confirm.html",
            form=form,
            obj=form.obj,
            impact=impact,
            carried=carried,
            repeated=repeated,
        ),
        409 if repeated else 200,
    )
