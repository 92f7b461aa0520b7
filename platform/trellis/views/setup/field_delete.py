"""Deleting a field in Setup: a page that says how many records hold a value, then
MetadataService.delete_field, as ``DELETE /api/v1/meta/objects/<name>/fields/<field>``
calls it: the field is hidden and taken off the layout; its values stay (a rollback
brings it back) until purged."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import Conflict, NotFound, ValidationError
from trellis.views.setup.changes import after_change, metadata_service, savepoint
from trellis.views.setup.field_impact import holding
from trellis.views.setup.naming import RIGHT
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = ()  # a page of the Objects section


@blueprint.route("/objects/<api_name>/fields/<field_name>/delete", methods=["GET", "POST"])
def delete_field(api_name: str, field_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        field = obj.definition_field(field_name)
        if field.get("deleted"):
            raise NotFound(f"{obj.api_name} has no field {field_name!r}.")
        name = field["api_name"]
        problems: list[str] = []
        if request.method == "POST":
            try:
                with savepoint(current):
                    metadata_service(current).delete_field(obj.api_name, name)
            except (ValidationError, Conflict) as error:
                problems = [m for messages in error.fields.values() for m in messages]
                problems = problems or [error.message]
            else:
                flash(f"Deleted the field {field.get('label') or name}.")
                response = redirect(url_for("setup.object_detail", api_name=obj.api_name), 303)
        if request.method == "GET" or problems:
            count = holding(current.connection, current.actor.tenant_id, obj.id, name)
            page = render_template(
                "setup/objects/field_delete.html",
                obj=obj,
                field=field,
                count=count,
                problems=problems,
            )
            return page, 422 if problems else 200
    after_change(current)
    return response
