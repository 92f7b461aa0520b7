"""Setup → Build → List views: each object's list views, created, changed and deleted
through the list views service (trellis.records.list_view_store), as the API's
``/api/v1/objects/<Object>/list-views`` changes them: checked by the list query's own
rules, and shared views audited as metadata changes.

A view's form posts back to itself; a mistake shows the form again with the messages
next to what they are about (422) and saves nothing. Deleting asks first, saying who
loses the view and whose column choices go with it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import BadRequest, Conflict
from trellis.metadata.compiled import ObjectSchema
from trellis.records import list_view_store
from trellis.records.list_views import CURRENT_USER, ListView
from trellis.views.list_filters import describe
from trellis.views.setup.list_view_form import (
    ViewForm,
    form_of_view,
    placed_errors,
    posted_form,
    view_body,
)
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen, plural_label

RIGHT = "manage_metadata"
# The form's buttons that change it without saving.
REDRAWS = ("move", "add_filter", "remove_filter")
SECTIONS: tuple[Section, ...] = (
    Section(
        "list_views",
        "List views",
        "setup.list_views",
        RIGHT,
        "Build",
        "The lists everyone can pick for each object: columns, filters and sort.",
    ),
)


@blueprint.get("/list-views")
def list_views() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        rows = []
        for obj in sorted(current.schema.objects.values(), key=lambda o: plural_label(o).lower()):
            views = list_view_store.visible_views(current.connection, current.access, obj)
            rows.append(
                {
                    "obj": obj,
                    "label": plural_label(obj),
                    "shared": sum(1 for view in views if view.shared and not view.generated),
                }
            )
        return render_template("setup/layouts/list_views_index.html", rows=rows)


@blueprint.get("/list-views/<api_name>")
def object_list_views(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        views = list_view_store.visible_views(current.connection, current.access, obj)
        return render_template(
            "setup/layouts/list_views_object.html",
            obj=obj,
            plural=plural_label(obj),
            views=views,
            describe=lambda each: _describe(current, obj, each),
        )


def _describe(current: Screen, obj: ObjectSchema, view: ListView) -> str:
    """A view's filters in words, for its row in the table (as the list's chips say
    them, the viewer for ``$User.Id``)."""
    words = []
    for each in view.filters:
        text = describe(obj, current.schema, current.access, each)
        words.append(f"{text[:-2]}the viewer" if each.value == CURRENT_USER else text)
    return "; ".join(words) if words else "All records"


@blueprint.route("/list-views/<api_name>/new", methods=["GET", "POST"])
def new_list_view(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        if request.method == "GET":
            return _form(obj, form_of_view(current, obj, None))
        return _submit(current, obj, None)


@blueprint.route("/list-views/<api_name>/<view_name>", methods=["GET", "POST"])
def edit_list_view(api_name: str, view_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        view = list_view_store.find_view(current.connection, current.access, obj, view_name)
        if request.method == "GET":
            return _form(obj, form_of_view(current, obj, view), view)
        return _submit(current, obj, view)


def _submit(current: Screen, obj: ObjectSchema, view: ListView | None) -> ResponseReturnValue:
    form = request.form
    shown = posted_form(current, obj, form, view)
    if any(name in form for name in REDRAWS):
        return _form(obj, shown, view)
    body = view_body(obj, form, creating=view is None)
    connection, access = current.connection, current.access
    try:
        with connection.begin_nested():  # a refused save leaves nothing behind
            if view is None:
                saved = list_view_store.create_view(connection, access, obj, body)
            else:
                saved = list_view_store.update_view(connection, access, obj, view.api_name, body)
    except (BadRequest, Conflict) as error:
        shown.errors = placed_errors(error.fields, form) or {"form": [error.message]}
        shown.errors.setdefault("form", [error.message])
        return _form(obj, shown, view, status=422)
    flash(f"Saved the view “{saved.label}” of {plural_label(obj)}.")
    return redirect(url_for("setup.object_list_views", api_name=obj.api_name), 303)


def _form(
    obj: ObjectSchema, form: ViewForm, view: ListView | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "setup/layouts/list_view_form.html",
        obj=obj,
        plural=plural_label(obj),
        form=form,
        view=view,
    ), status


@blueprint.route("/list-views/<api_name>/<view_name>/delete", methods=["GET", "POST"])
def delete_list_view(api_name: str, view_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        connection, access = current.connection, current.access
        view = list_view_store.find_view(connection, access, obj, view_name)
        if request.method == "GET" or view.generated:
            choices = (
                0
                if view.generated
                else list_view_store.column_choices(connection, access, obj, view)
            )
            return render_template(
                "setup/layouts/list_view_delete.html",
                obj=obj,
                plural=plural_label(obj),
                view=view,
                choices=choices,
            ), (409 if request.method == "POST" else 200)
        list_view_store.delete_view(connection, access, obj, view.api_name)
    flash(f"Deleted the view “{view.label}” of {plural_label(obj)}.")
    return redirect(url_for("setup.object_list_views", api_name=obj.api_name), 303)
