"""What the record page changes, each through the records service with the reader's
access (so rules, field-level security, sharing, history and automations hold):

- ``POST /o/<Object>/<id>/path``: move the record to another stage of its path;
- ``GET /o/<Object>/<id>/fields/<Field>/edit`` and ``POST /o/<Object>/<id>/fields/<Field>``:
  edit one field in place, with the widget the record forms use for it, sent and read
  the same way (record.js asks for the form as a fragment and posts it back; a success
  answers the page anew, an error the form with its message and what the user sent);
- ``GET`` and ``POST /o/<Object>/<id>/delete``: the confirmation page, and the delete.

Every write carries the version the page showed: a record changed since is a conflict
that says so, never a silent overwrite. A refused write changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import Forbidden, NotFound, PreconditionFailed, TrellisError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.layouts import layout_of
from trellis.records.batch import in_savepoint
from trellis.records.query import list_page, parse_list_request
from trellis.records.values import is_blank
from trellis.views.record_data import service_for
from trellis.views.record_layout import ShownItem
from trellis.views.record_page import RecordPage, build_page, render_page, wants_fragment
from trellis.views.shell import Screen, plural_label, readable_object, screen
from trellis.views.widgets import read_input, record_value, widget_for

CONFLICT = (
    "Someone changed this record after you opened it. Reload the page to see their change, "
    "then try again."
)


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/<api_name>/<record_id>/path", "record_path", save_stage, methods=["POST"])
    rule("/<api_name>/<record_id>/fields/<field_name>/edit", "field_form", field_form)
    rule("/<api_name>/<record_id>/fields/<field_name>", "save_field", save_field, methods=["POST"])
    rule("/<api_name>/<record_id>/delete", "confirm_delete", confirm_delete)
    rule("/<api_name>/<record_id>/delete", "delete_record", delete_record, methods=["POST"])


def messages(error: TrellisError, field: str | None = None) -> list[str]:
    """What a refused write says to the person who made it: the field's own messages when
    it names one, else every message (a validation rule's, on another field or none)."""
    if isinstance(error, PreconditionFailed):
        return [CONFLICT]
    if field is not None and error.fields.get(field):
        return list(error.fields[field])
    found = [message for each in error.fields.values() for message in each]
    return found or [error.message]


def version_sent() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def attempt(current: Screen, write: Callable[[], Any]) -> TrellisError | None:
    """Run a write in a savepoint: None when it succeeded, else the error that refused it
    (and nothing of it is kept)."""
    result = in_savepoint(current.connection, write)
    if not isinstance(result, TrellisError):
        return None
    if isinstance(result, NotFound | Forbidden) and result.code != "field_not_editable":
        raise result
    return result


# -- the path ------------------------------------------------------------------------------
def save_stage(api_name: str, record_id: str) -> ResponseReturnValue:
    stage = request.form.get("value", "")
    with screen() as current:
        obj = readable_object(current, api_name)
        page = build_page(current, obj, record_id, request.args.get("tab"))
        path = page.layout.path
        if path is None or not page.path_editable:
            raise Forbidden("You may not change the stage of this record.")
        error = attempt(
            current,
            lambda: service_for(current, obj).update(
                page.id, {path.api_name: stage}, expected_version=version_sent()
            ),
        )
        if error is not None:
            page.path_errors = messages(error, path.api_name)
            return render_page(page, _status(error))
    flash(f"{path.definition.get('label') or path.api_name} set to {stage}.")
    return redirect(url_for("objects.record_page", api_name=obj.api_name, record_id=page.id), 303)


def _status(error: TrellisError) -> int:
    return 409 if isinstance(error, PreconditionFailed) else error.status


# -- one field in place ------------------------------------------------------------------
def _editable_item(page: RecordPage, field_name: str) -> ShownItem:
    """The field as the page shows it, if the reader may edit it there."""
    for tab in page.shown_tabs():
        for section in tab.sections:
            for shown in section.items:
                named = shown.item.name.lower() == field_name.lower()
                if shown.field is not None and named and shown.editable:
                    return shown
    raise Forbidden("This field cannot be edited here.", code="field_not_editable")


def field_form(api_name: str, record_id: str, field_name: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
        page = build_page(current, obj, record_id, _tab_of(current, obj, field_name))
        item = _editable_item(page, field_name)
        page.edit(item)
    if not wants_fragment("field"):
        # Opened as a page (a bookmark, no JavaScript): the page, with the field's form.
        return render_page(page)
    return render_template("record/field_row.html", page=page, shown=item)


def _tab_of(current: Screen, obj: ObjectSchema, field_name: str) -> str | None:
    """The tab whose sections show the field (the page is built on it)."""
    for tab in layout_of(current.schema, obj).tabs:
        for section in tab.sections:
            if any(item.name.lower() == field_name.lower() for item in section.items):
                return tab.name
    return None


def submitted(item: ShownItem) -> tuple[Any, Any]:
    """What the form sent for the field, as typed (to show again) and as the records API
    takes it (the field type checks it), read as the record forms read it."""
    field = item.field
    assert field is not None
    widget = widget_for(field)
    typed = read_input(widget, request.form, field.api_name)
    return typed, record_value(widget, typed)


def save_field(api_name: str, record_id: str, field_name: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
        tab = _tab_of(current, obj, field_name)
        page = build_page(current, obj, record_id, tab)
        item = _editable_item(page, field_name)
        typed, value = submitted(item)
        errors: list[str] = []
        status = 422
        if item.item.required and is_blank(value):
            errors = ["Enter a value: this field is required on this page."]
        else:
            error = attempt(
                current,
                lambda: service_for(current, obj).update(
                    page.id, {item.item.name: value}, expected_version=version_sent()
                ),
            )
            if error is not None:
                errors, status = messages(error, item.item.name), _status(error)
        if errors:
            page.edit(item, errors, {item.item.name: typed})
            if wants_fragment("field"):
                # A fragment is swapped in whatever it says, so it answers 200: the form
                # with its error here, the page anew after a save.
                return render_template("record/field_row.html", page=page, shown=item)
            return render_page(page, status)
        if wants_fragment("field"):
            fresh = build_page(current, obj, record_id, tab)
            return render_template("record/page.html", page=fresh)
    flash(f"{item.item.label} saved.")
    return redirect(url_for("objects.record_page", api_name=obj.api_name, record_id=page.id), 303)


# -- delete --------------------------------------------------------------------------------
def _consequences(current: Screen, obj: ObjectSchema, record_id: str) -> list[dict[str, Any]]:
    """What deleting the record does to the records that look up to it, as many as the
    reader may see: deleted with it, their lookup cleared, or the delete refused."""
    effects = []
    for source, lookup in current.schema.referencing_lookups(obj.api_name):
        if not current.access.rights.has(source.api_name, "read"):
            continue
        if lookup.api_name in current.access.unreadable_fields(source):
            continue
        args = {lookup.api_name: [record_id], "limit": ["1"], "count": ["true"], "fields": ["id"]}
        query = parse_list_request(source, current.schema, current.access, args)
        page = json.loads(
            list_page(current.connection, current.access, current.schema, source, query)
        )
        if page["total"]:
            effects.append(
                {
                    "count": page["total"],
                    "label": plural_label(source),
                    "lookup": lookup.definition.get("label") or lookup.api_name,
                    "action": lookup.definition.get("on_delete", "set_null"),
                }
            )
    return effects


def confirm_delete(api_name: str, record_id: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
        page = build_page(current, obj, record_id, None)
        if not page.can_delete:
            raise Forbidden(f"You may not delete this {page.label.lower()}.")
        effects = _consequences(current, obj, page.id)
    return render_template("record/delete.html", page=page, effects=effects)


def delete_record(api_name: str, record_id: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
        page = build_page(current, obj, record_id, None)
        error = attempt(
            current,
            lambda: service_for(current, obj).delete(page.id, expected_version=version_sent()),
        )
        if error is not None:
            effects = _consequences(current, obj, page.id)
            return render_template(
                "record/delete.html", page=page, effects=effects, errors=messages(error)
            ), _status(error)
    flash(f"{page.label} “{page.name}” was moved to the recycle bin.")
    return redirect(url_for("objects.list_view", api_name=obj.api_name), 303)
