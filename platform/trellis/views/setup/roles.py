"""Setup → Roles: the role hierarchy as a tree, with how many users hold each role;
roles created, renamed (their label: names are permanent), moved under another parent
and deleted through the service ``/api/v1/meta/roles`` uses, so a loop or a role still
held is refused with the same message."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import TrellisError
from trellis.views.setup.access_common import attempt, definitions, field_messages
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = (
    Section(
        "roles",
        "Roles",
        "setup.roles",
        "manage_users",
        "Access",
        "The role hierarchy: managers see the records of the roles below them.",
    ),
)


@dataclasses.dataclass
class RoleNode:
    role: dict[str, Any]
    users: int
    children: list[RoleNode] = dataclasses.field(default_factory=list)


def users_by_role(current: Screen) -> dict[str, int]:
    rows = current.connection.execute(
        sa.text("SELECT lower(role), count(*) FROM users WHERE role IS NOT NULL GROUP BY 1")
    )
    return {str(name): int(count) for name, count in rows}


def role_tree(roles: dict[str, dict[str, Any]], counts: dict[str, int]) -> list[RoleNode]:
    """The roles as a forest by label: a role whose parent is missing is a root."""
    nodes = {name: RoleNode(role, counts.get(name, 0)) for name, role in roles.items()}
    roots: list[RoleNode] = []
    for name, node in nodes.items():
        parent = str(node.role.get("parent") or "").lower()
        (nodes[parent].children if parent in nodes and parent != name else roots).append(node)
    for node in [*nodes.values(), RoleNode({}, 0, roots)]:
        node.children.sort(key=lambda child: str(child.role.get("label")).lower())
    return roots


def _form() -> dict[str, Any]:
    document: dict[str, Any] = {
        "api_name": request.form.get("api_name", "").strip(),
        "label": request.form.get("label", "").strip(),
        "parent": request.form.get("parent", "").strip() or None,
    }
    description = request.form.get("description", "").strip()
    if description:
        document["description"] = description
    return document


def _render(
    current: Screen,
    template: str,
    form: dict[str, Any],
    error: TrellisError | None = None,
    **shown: Any,
) -> ResponseReturnValue:
    roles = current.schema.access.roles
    page = render_template(
        template,
        tree=role_tree(roles, users_by_role(current)),
        roles=sorted(roles.values(), key=lambda r: str(r.get("label")).lower()),
        form=form,
        error=error,
        errors=field_messages(error),
        **shown,
    )
    return page, 422 if error else 200


@blueprint.get("/roles")
def roles() -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return _render(current, "setup/access/roles.html", {})


@blueprint.post("/roles")
def create_role() -> ResponseReturnValue:
    form = _form()
    with setup_screen("manage_users") as current:
        _, error = attempt(current, lambda: definitions(current).save("role", None, form))
        if error is not None:
            return _render(current, "setup/access/roles.html", form, error)
    flash(f"Created role {form['label'] or form['api_name']}.")
    return redirect(url_for("setup.roles"), 303)


def _role(current: Screen, name: str) -> dict[str, Any]:
    return definitions(current).get("role", name)


@blueprint.get("/roles/<name>")
def edit_role(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        role = _role(current, name)
        return _render(current, "setup/access/role_edit.html", role, role=role)


@blueprint.post("/roles/<name>")
def save_role(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        role = _role(current, name)
        form = {**_form(), "api_name": role["api_name"]}
        _, error = attempt(current, lambda: definitions(current).save("role", name, form))
        if error is not None:
            return _render(current, "setup/access/role_edit.html", form, error, role=role)
    flash(f"Saved role {form['label']}.")
    return redirect(url_for("setup.roles"), 303)


@blueprint.get("/roles/<name>/delete")
def confirm_delete_role(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        role = _role(current, name)
        return _confirm(current, role)


def _confirm(
    current: Screen, role: dict[str, Any], error: str | None = None
) -> ResponseReturnValue:
    key = role["api_name"].lower()
    children = [
        other
        for other in current.schema.access.roles.values()
        if str(other.get("parent") or "").lower() == key
    ]
    page = render_template(
        "setup/access/role_delete.html",
        role=role,
        users=users_by_role(current).get(key, 0),
        children=children,
        error=error,
    )
    return page, 409 if error else 200


@blueprint.post("/roles/<name>/delete")
def delete_role(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        role = _role(current, name)
        _, error = attempt(current, lambda: definitions(current).delete("role", name))
        if error is not None:
            return _confirm(current, role, error.message)
    flash(f"Deleted role {role['label']}.")
    return redirect(url_for("setup.roles"), 303)
