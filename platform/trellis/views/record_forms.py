"""The generated create and edit forms: ``/o/<Object>/new`` and ``/o/<Object>/<id>/edit``,
and the two endpoints their scripts call.

A form saves through the records service exactly as the REST API does (same checks,
rules, field-level security, history and automations), in a savepoint of the screen's
transaction: a refused save changes nothing and the form comes back with the user's
input, the errors next to their fields and in a summary. A save made against an older
version comes back with what someone else changed (trellis.views.form_errors). A saved
record is shown on its page (303).

- ``POST .../new/conditions`` and ``POST .../<id>/edit/conditions`` take the form's
  values and answer which conditional fields are visible, required and read-only
  (trellis.records.conditions), for the form's script to show as the user types;
- ``GET /o/<Object>/lookup/<Field>?q=`` answers the records a lookup may point at whose
  name matches (trellis.views.lookup_options), for the type-ahead.

Rights: no create right is a 403; a record the user may not read is a 404; no right to
edit it is a 403 (before any form is shown).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import BadRequest, NotFound, PreconditionFailed, TrellisError, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.outbox.nudges import schedule_event_dispatch
from trellis.records.conditions import FieldConditions
from trellis.records.history import changes_after, latest_change
from trellis.records.reads import parse_record_id
from trellis.records.service import RecordService
from trellis.records.users import refuse_managed
from trellis.views.form_errors import StaleSave, field_errors, stale_save, summary
from trellis.views.form_model import RecordForm
from trellis.views.lookup_options import matching_records
from trellis.views.shell import Screen, readable_object, screen

blueprint = Blueprint("record_forms", __name__, url_prefix="/o")


def _label(obj: ObjectSchema) -> str:
    return str(obj.definition.get("label") or obj.api_name)


def _creatable(current: Screen, api_name: str) -> ObjectSchema:
    obj = readable_object(current, api_name)
    refuse_managed(obj)
    current.access.rights.require(obj.api_name, "create", _label(obj))
    return obj


def _service(current: Screen, obj: ObjectSchema) -> RecordService:
    return RecordService(
        current.connection, current.actor, current.schema, obj, access=current.access
    )


def _editable(current: Screen, api_name: str, record_id: str) -> RecordForm:
    """The edit form of a record the user may read (else 404) and edit (else 403)."""
    obj = readable_object(current, api_name)
    service = _service(current, obj)
    text, _ = service.get_json(record_id)
    current.access.rights.require(obj.api_name, "edit", _label(obj))
    service.locate(record_id, permission="edit")
    return RecordForm(current, obj, json.loads(text))


def _refused_values(error: TrellisError) -> bool:
    """A refusal the user can fix on the form (as opposed to a missing right)."""
    return isinstance(error, ValidationError | BadRequest) or bool(error.fields)


def _render(
    form: RecordForm,
    typed: dict[str, Any],
    conditions: dict[str, FieldConditions],
    *,
    error: TrellisError | None = None,
    stale: StaleSave | None = None,
) -> str:
    controls = form.controls(typed, conditions, field_errors(error, form) if error else {})
    obj = form.obj
    since = None
    if form.record_id is not None:
        since = latest_change(
            form.current.connection, form.current.actor.tenant_id, parse_record_id(form.record_id)
        )
    return render_template(
        "records/form.html",
        form=form,
        obj=obj,
        object_label=_label(obj),
        record_title=_record_title(form),
        controls=controls,
        problems=summary(error, form, controls) if error else [],
        stale=stale,
        since=since,
    )


def _record_title(form: RecordForm) -> str | None:
    if form.record is None:
        return None
    name = form.record.get(form.obj.name_field)
    return str(name) if name not in (None, "") else None


@blueprint.route("/<api_name>/new", methods=["GET", "POST"])
def new_record(api_name: str) -> ResponseReturnValue:
    with screen() as current:
        form = RecordForm(current, _creatable(current, api_name))
        if request.method == "GET":
            typed = form.initial(request.args)
            return _render(form, typed, form.conditions(typed))
        typed = form.read(request.form)
        values = form.values_to_save(typed, form.conditions(typed))
        try:
            with current.connection.begin_nested():
                saved = _service(current, form.obj).create(values)
        except TrellisError as error:
            if not _refused_values(error):
                raise
            return _render(form, typed, form.conditions(typed), error=error), error.status
    schedule_event_dispatch()
    return _saved(form.obj, str(saved["id"]))


def _saved(obj: ObjectSchema, record_id: str) -> ResponseReturnValue:
    return redirect(url_for("objects.record_page", api_name=obj.api_name, record_id=record_id), 303)


def _version(form: Any) -> int:
    raw = form.get("_version", "")
    if not raw.isdigit() or len(raw) > 10:
        raise BadRequest(
            "The form does not say which version of the record it edits; reload it.",
            code="missing_version",
            fields={"_version": "A whole number."},
        )
    return int(raw)


@blueprint.route("/<api_name>/<record_id>/edit", methods=["GET", "POST"])
def edit_record(api_name: str, record_id: str) -> ResponseReturnValue:
    with screen() as current:
        form = _editable(current, api_name, record_id)
        if request.method == "GET":
            return _render(form, form.initial(request.args), form.conditions({}))
        version = _version(request.form)
        typed = form.read(request.form)
        values = form.values_to_save(typed, form.conditions(typed))
        try:
            # Nothing changed from the record as it is now: nothing to save, and no
            # one's change to overwrite.
            if values:
                with current.connection.begin_nested():
                    _service(current, form.obj).update(record_id, values, expected_version=version)
        except PreconditionFailed:
            return _stale(current, form, typed), 409
        except TrellisError as error:
            if not _refused_values(error):
                raise
            return _render(form, typed, form.conditions(typed), error=error), error.status
    if values:
        schedule_event_dispatch()
    return _saved(form.obj, record_id)


def _stale(current: Screen, old: RecordForm, typed: dict[str, Any]) -> str:
    """The form again over the record as it is now, with what changed since the user
    opened it (history after the row the form saw) and the user's changes kept."""
    since = request.form.get("_since", "")
    record_id = parse_record_id(old.record_id)
    text, _ = _service(current, old.obj).get_json(record_id)
    form = RecordForm(current, old.obj, json.loads(text))
    after = int(since) if since.isdigit() and len(since) < 19 else 0
    rows = changes_after(current.connection, current.actor.tenant_id, record_id, after)
    stale, merged = stale_save(form, typed, rows)
    return _render(form, merged, form.conditions(merged), stale=stale)


def _conditions_json(states: dict[str, FieldConditions]) -> ResponseReturnValue:
    return jsonify(
        {
            "fields": {
                name: {"visible": s.visible, "required": s.required, "read_only": s.read_only}
                for name, s in states.items()
            }
        }
    )


@blueprint.post("/<api_name>/new/conditions")
def new_record_conditions(api_name: str) -> ResponseReturnValue:
    with screen(with_shell=False) as current:
        form = RecordForm(current, _creatable(current, api_name))
        return _conditions_json(form.conditions(form.read(request.form)))


@blueprint.post("/<api_name>/<record_id>/edit/conditions")
def edit_record_conditions(api_name: str, record_id: str) -> ResponseReturnValue:
    with screen(with_shell=False) as current:
        form = _editable(current, api_name, record_id)
        return _conditions_json(form.conditions(form.read(request.form)))


@blueprint.get("/<api_name>/lookup/<field_name>")
def lookup_matches(api_name: str, field_name: str) -> ResponseReturnValue:
    """The records the user may read that lookup ``field_name`` may point at, by name."""
    with screen(with_shell=False) as current:
        obj = readable_object(current, api_name)
        field = obj.find(field_name)
        if (
            field is None
            or not field.type.references_records
            or field.api_name in current.access.unreadable_fields(obj)
        ):
            raise NotFound(f"{_label(obj)} has no lookup {field_name!r}.", code="unknown_field")
        target = current.schema.object(field.definition["target"])
        options, more = matching_records(current, target, request.args.get("q", ""))
    return jsonify(
        {"data": [{"id": option.value, "name": option.label} for option in options], "more": more}
    )
