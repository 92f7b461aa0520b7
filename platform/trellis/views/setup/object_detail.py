"""An object's page in Setup: its settings, editable (saved through
MetadataService.replace_object, as ``PUT /api/v1/meta/objects/<name>`` saves them), and
its fields with their index states (trellis.metadata.indexes.index_status)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import Conflict, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.indexes import index_status
from trellis.views.setup.changes import after_change, metadata_service, savepoint
from trellis.views.setup.field_impact import records_by_object
from trellis.views.setup.naming import RIGHT, SHARING_SHORT, humanize
from trellis.views.setup.object_form import (
    ObjectForm,
    changed_definition,
    read_settings,
    settings_form,
    show_errors,
)
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = ()  # a page of the Objects section


@dataclasses.dataclass(frozen=True)
class FieldRow:
    api_name: str
    label: str
    type_label: str
    required: bool
    unique: bool
    indexed: bool
    # The index's state (building, ready, failed) and a failure's reason; None: no index.
    index: dict[str, Any] | None
    is_name: bool
    external_id: bool = False


def field_rows(current: Screen, obj: ObjectSchema) -> list[FieldRow]:
    status = index_status(current.connection, obj.id)
    return [
        FieldRow(
            field.api_name,
            str(field.definition.get("label") or field.api_name),
            humanize(field.definition["type"]),
            bool(field.definition.get("required")),
            bool(field.definition.get("unique")),
            bool(field.definition.get("indexed")),
            status.get(field.api_name),
            field.api_name == obj.name_field,
            bool(field.definition.get("external_id")),
        )
        for field in obj.fields.values()
    ]


def _render(
    current: Screen, obj: ObjectSchema, form: ObjectForm, status: int = 200
) -> ResponseReturnValue:
    count = records_by_object(current.connection, current.actor.tenant_id).get(obj.id, 0)
    hidden = [f["api_name"] for f in obj.definition["fields"] if f.get("deleted")]
    page = render_template(
        "setup/objects/detail.html",
        obj=obj,
        form=form,
        fields=field_rows(current, obj),
        hidden_fields=hidden,
        record_count=count,
        sharing=SHARING_SHORT,
    )
    return page, status


@blueprint.route("/objects/<api_name>", methods=["GET", "POST"])
def object_detail(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        form = settings_form(obj)
        if request.method == "GET":
            return _render(current, obj, form)
        read_settings(form, request.form)
        if form.refuse_blank_label():
            return _render(current, obj, form, 422)
        try:
            with savepoint(current):
                metadata_service(current).replace_object(
                    obj.api_name, changed_definition(obj, form)
                )
        except (ValidationError, Conflict) as error:
            show_errors(form, error.fields, error.message)
            return _render(current, obj, form, error.status)
        flash("Saved the object's settings.")
    after_change(current)
    return redirect(url_for("setup.object_detail", api_name=obj.api_name), 303)
