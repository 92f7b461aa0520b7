"""Setup → Permission sets → a set's field grid for one object: read and edit per field
(field-level security). A field is readable and editable unless the set says otherwise,
so only the exceptions are stored; saved through the same service as the object grid."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from trellis.errors import TrellisError
from trellis.metadata.compiled import ObjectSchema
from trellis.views.setup.access_common import attempt, definitions, field_messages
from trellis.views.setup.permission_sets import granted
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = ()


def field_entries(document: dict[str, Any], obj: ObjectSchema) -> dict[str, dict[str, bool]]:
    """The set's entries for the fields of ``obj``, by field api name."""
    prefix = f"{obj.api_name.lower()}."
    entries: dict[str, dict[str, bool]] = {}
    for path, entry in document.get("fields", {}).items():
        if path.lower().startswith(prefix):
            field = obj.find(path.split(".", 1)[1])
            if field is not None:
                entries[field.api_name] = dict(entry)
    return entries


def fields_document(
    document: dict[str, Any], obj: ObjectSchema, form: MultiDict[str, str]
) -> dict[str, Any]:
    """The set with the field entries of ``obj`` as the grid sent them (others kept)."""
    prefix = f"{obj.api_name.lower()}."
    kept = {
        path: entry
        for path, entry in document.get("fields", {}).items()
        if not path.lower().startswith(prefix)
    }
    for name in obj.fields:
        readable = f"read:{name}" in form
        editable = readable and f"edit:{name}" in form
        if not readable:
            kept[f"{obj.api_name}.{name}"] = {"read": False}
        elif not editable:
            kept[f"{obj.api_name}.{name}"] = {"edit": False}
    updated = {key: value for key, value in document.items() if key != "fields"}
    if kept:
        updated["fields"] = kept
    return updated


def _render(
    current: Screen,
    document: dict[str, Any],
    obj: ObjectSchema,
    error: TrellisError | None = None,
) -> ResponseReturnValue:
    rights = granted(document, obj.api_name) | granted(document, "*")
    page = render_template(
        "setup/access/permission_set_fields.html",
        document=document,
        obj=obj,
        fields=list(obj.fields.values()),
        entries=field_entries(document, obj),
        object_read="read" in rights or "view_all" in rights or "modify_all" in rights,
        object_edit="edit" in rights or "modify_all" in rights,
        error=error,
        errors=field_messages(error),
    )
    return page, 422 if error else 200


@blueprint.get("/permission-sets/<name>/fields/<api_name>")
def permission_set_fields(name: str, api_name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        document = definitions(current).get("permission_set", name)
        return _render(current, document, current.schema.object(api_name))


@blueprint.post("/permission-sets/<name>/fields/<api_name>")
def save_permission_set_fields(name: str, api_name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        stored = definitions(current).get("permission_set", name)
        obj = current.schema.object(api_name)
        document = fields_document(stored, obj, request.form)
        _, error = attempt(
            current, lambda: definitions(current).save("permission_set", name, document)
        )
        if error is not None:
            return _render(current, document, obj, error)
    flash(f"Saved the field access of {stored['label']} on {obj.definition.get('label')}.")
    return redirect(
        url_for("setup.permission_set_fields", name=stored["api_name"], api_name=obj.api_name),
        303,
    )
