"""Setup → Permission sets: the list (with how many users hold each), a new set, the
object × right grid with the system rights, and deleting a set nobody holds. Every save
goes through the service ``PUT /api/v1/meta/permission-sets/<name>`` uses, so what the
grid saves is validated, versioned and audited as an API call is."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from trellis.errors import TrellisError
from trellis.metadata.access_documents import (
    DEFAULT_PERMISSION_SETS,
    OBJECT_RIGHTS,
    SYSTEM_RIGHTS,
)
from trellis.metadata.compiled import TenantSchema
from trellis.views.setup.access_common import (
    attempt,
    definitions,
    field_messages,
    objects_by_label,
)
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = (
    Section(
        "permission_sets",
        "Permission sets",
        "setup.permission_sets",
        "manage_users",
        "Access",
        "What users may do with each object and field, and the system rights they hold.",
    ),
)
RIGHT_LABELS = {
    "read": "Read",
    "create": "Create",
    "edit": "Edit",
    "delete": "Delete",
    "view_all": "View all",
    "modify_all": "Modify all",
}
SYSTEM_LABELS = {
    "manage_metadata": ("Manage metadata", "Build objects, fields, layouts and rules."),
    "manage_users": ("Manage users", "Invite users and change who may see and do what."),
    "manage_automations": ("Manage automations", "Build automations and replay their runs."),
    "import": ("Import", "Load records in bulk."),
    "export": ("Export", "Download records in bulk."),
    "api": ("API", "Use the REST API with a token."),
    "view_audit": ("View the audit trail", "Read who did what, and export it."),
}
ALL = "*"


def grid_document(
    schema: TenantSchema, current: dict[str, Any], form: MultiDict[str, str]
) -> dict[str, Any]:
    """The permission set with its label, object rights and system rights as the grid
    sent them; its field rights are kept (their own screen edits them)."""

    def ticked(obj: str) -> dict[str, bool]:
        return {right: True for right in OBJECT_RIGHTS if f"right:{obj}:{right}" in form}

    objects = {obj.api_name: ticked(obj.api_name) for obj in objects_by_label(schema)}
    document: dict[str, Any] = {
        "api_name": current["api_name"],
        "label": form.get("label", "").strip(),
        "all_objects": ticked(ALL),
        "objects": {name: rights for name, rights in objects.items() if rights},
        "system": [right for right in SYSTEM_RIGHTS if right in form.getlist("system")],
    }
    description = form.get("description", "").strip()
    if description:
        document["description"] = description
    if current.get("fields"):
        document["fields"] = current["fields"]
    return document


def granted(document: dict[str, Any], obj: str) -> set[str]:
    """The rights the set's own row for ``obj`` ticks (``*``: every object's row)."""
    if obj == ALL:
        rights = document.get("all_objects", {})
    else:
        rights = next(
            (r for name, r in document.get("objects", {}).items() if name.lower() == obj.lower()),
            {},
        )
    return {right for right, on in rights.items() if on}


def holders(current: Screen) -> dict[str, int]:
    rows = current.connection.execute(
        sa.text("SELECT lower(p), count(*) FROM users, unnest(permission_sets) p GROUP BY 1")
    )
    return {str(name): int(count) for name, count in rows}


@blueprint.get("/permission-sets")
def permission_sets() -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return _render_list(current, {})


def _render_list(
    current: Screen, form: dict[str, Any], error: TrellisError | None = None
) -> ResponseReturnValue:
    page = render_template(
        "setup/access/permission_sets.html",
        sets=definitions(current).list("permission_set"),
        holders=holders(current),
        form=form,
        error=error,
        errors=field_messages(error),
    )
    return page, 422 if error else 200


@blueprint.post("/permission-sets")
def create_permission_set() -> ResponseReturnValue:
    form = {
        "api_name": request.form.get("api_name", "").strip(),
        "label": request.form.get("label", "").strip(),
    }
    with setup_screen("manage_users") as current:
        _, error = attempt(
            current, lambda: definitions(current).save("permission_set", None, dict(form))
        )
        if error is not None:
            return _render_list(current, form, error)
    flash(f"Created permission set {form['label']}: tick what it grants.")
    return redirect(url_for("setup.edit_permission_set", name=form["api_name"]), 303)


def _render_grid(
    current: Screen, document: dict[str, Any], error: TrellisError | None = None
) -> ResponseReturnValue:
    page = render_template(
        "setup/access/permission_set.html",
        document=document,
        objects=objects_by_label(current.schema),
        rights=OBJECT_RIGHTS,
        right_labels=RIGHT_LABELS,
        system_rights=[(right, *SYSTEM_LABELS[right]) for right in SYSTEM_RIGHTS],
        granted=granted,
        all_key=ALL,
        holders=holders(current).get(document["api_name"].lower(), 0),
        deletable=document["api_name"].lower() not in DEFAULT_PERMISSION_SETS,
        error=error,
        errors=field_messages(error),
    )
    return page, 422 if error else 200


@blueprint.get("/permission-sets/<name>")
def edit_permission_set(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return _render_grid(current, definitions(current).get("permission_set", name))


@blueprint.post("/permission-sets/<name>")
def save_permission_set(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        stored = definitions(current).get("permission_set", name)
        document = grid_document(current.schema, stored, request.form)
        _, error = attempt(
            current, lambda: definitions(current).save("permission_set", name, document)
        )
        if error is not None:
            return _render_grid(current, document, error)
    flash(f"Saved permission set {document['label']}.")
    return redirect(url_for("setup.edit_permission_set", name=stored["api_name"]), 303)


@blueprint.get("/permission-sets/<name>/delete")
def confirm_delete_permission_set(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return _confirm(current, definitions(current).get("permission_set", name))


def _confirm(
    current: Screen, document: dict[str, Any], error: str | None = None
) -> ResponseReturnValue:
    page = render_template(
        "setup/access/permission_set_delete.html",
        document=document,
        holders=holders(current).get(document["api_name"].lower(), 0),
        error=error,
    )
    return page, 409 if error else 200


@blueprint.post("/permission-sets/<name>/delete")
def delete_permission_set(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        document = definitions(current).get("permission_set", name)
        _, error = attempt(current, lambda: definitions(current).delete("permission_set", name))
        if error is not None:
            return _confirm(current, document, error.message)
    flash(f"Deleted permission set {document['label']}.")
    return redirect(url_for("setup.permission_sets"), 303)
