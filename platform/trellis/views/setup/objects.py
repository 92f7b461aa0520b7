"""Setup → Build → Objects: the list of the workspace's objects (label, API name, how
many records each holds, its sharing) and the create form. An object is created through
MetadataService.create_object, as ``POST /api/v1/meta/objects`` creates one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import Conflict, ValidationError
from trellis.state import get_state
from trellis.views.setup.changes import after_change, metadata_service, savepoint
from trellis.views.setup.field_impact import records_by_object
from trellis.views.setup.naming import RIGHT, SHARING_MODELS, SHARING_SHORT
from trellis.views.setup.object_form import ObjectForm, create_form, created_definition, show_errors
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = (
    Section(
        "objects",
        "Objects",
        "setup.objects",
        RIGHT,
        "Build",
        "The kinds of records the workspace keeps, their fields and who may see them.",
    ),
)


@blueprint.get("/objects")
def objects() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        counts = records_by_object(current.connection, current.actor.tenant_id)
        listed = sorted(
            current.schema.objects.values(),
            key=lambda obj: str(obj.definition.get("label") or obj.api_name).lower(),
        )
        return render_template(
            "setup/objects/list.html",
            objects=listed,
            counts=counts,
            sharing=SHARING_SHORT,
        )


def _name_type(chosen: str | None) -> str:
    """The name field's type: the chosen one if it may name records, else text (or the
    first type that may)."""
    registry = get_state().metadata_cache.registry
    nameable = sorted(t.name for t in registry.all() if t.usable_as_name)
    if chosen in nameable:
        return str(chosen)
    return "text" if "text" in nameable else nameable[0]


def _render_create(form: ObjectForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template("setup/objects/new.html", form=form, sharing_models=SHARING_MODELS),
        status,
    )


@blueprint.route("/objects/new", methods=["GET", "POST"])
def new_object() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        registry = get_state().metadata_cache.registry
        source = request.form if request.method == "POST" else request.args
        form = create_form(current.schema, registry, _name_type(source.get("name_type")), source)
        # A changed name type (without JavaScript: its Apply button) shows its settings.
        if request.method == "GET" or "_retype" in request.form:
            return _render_create(form)
        if form.refuse_blank_label():
            return _render_create(form, 422)
        definition = created_definition(form, registry)
        try:
            with savepoint(current):
                obj = metadata_service(current).create_object(definition)
        except (ValidationError, Conflict) as error:
            show_errors(form, error.fields, error.message)
            return _render_create(form, error.status)
        flash(f"Created the object {obj.definition['label']}.")
    after_change(current)
    return redirect(url_for("setup.object_detail", api_name=obj.api_name), 303)
