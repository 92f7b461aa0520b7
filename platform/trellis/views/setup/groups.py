"""Setup → Groups: groups of users, roles (with or without their subordinates) and other
groups, which sharing rules and shares name. Saved and deleted through the service
``/api/v1/groups`` uses, which rebuilds who reaches what and audits the change."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.access.groups import delete_group, find_group, group_json, list_groups, save_group
from trellis.errors import TrellisError
from trellis.views.setup.access_common import attempt, field_messages, user_choices
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = (
    Section(
        "groups",
        "Groups",
        "setup.groups",
        "manage_users",
        "Access",
        "Groups of users and roles, to share records with in one go.",
    ),
)
ROLE_KINDS = ("role", "role_and_subordinates")


def _form(current: Screen) -> dict[str, Any]:
    """The group as the API takes it, from the form."""
    members = [{"kind": "user", "member": value} for value in request.form.getlist("users")]
    for role in current.schema.access.roles.values():
        kind = request.form.get(f"role:{role['api_name']}", "")
        if kind in ROLE_KINDS:
            members.append({"kind": kind, "member": role["api_name"]})
    members += [{"kind": "group", "member": name} for name in request.form.getlist("groups")]
    return {
        "api_name": request.form.get("api_name", "").strip(),
        "label": request.form.get("label", "").strip(),
        "description": request.form.get("description", "").strip(),
        "members": members,
    }


def _chosen(group: dict[str, Any], names_by_id: dict[str, str]) -> dict[str, Any]:
    """What the form shows ticked: user ids, each role's kind, group api names."""
    members = group.get("members", [])
    return {
        "users": {m["member"] for m in members if m["kind"] == "user"},
        "roles": {m["member"].lower(): m["kind"] for m in members if m["kind"] in ROLE_KINDS},
        "groups": {
            names_by_id.get(m["member"], m["member"]).lower()
            for m in members
            if m["kind"] == "group"
        },
    }


def _render(
    current: Screen,
    group: dict[str, Any],
    editing: str | None,
    error: TrellisError | None = None,
) -> ResponseReturnValue:
    groups = list_groups(current.connection)
    names_by_id = {g["id"]: g["api_name"] for g in groups}
    page = render_template(
        "setup/access/group_form.html",
        group=group,
        editing=editing,
        chosen=_chosen(group, names_by_id),
        users=user_choices(current),
        roles=sorted(current.schema.access.roles.values(), key=lambda r: str(r["label"]).lower()),
        groups=[g for g in groups if not editing or g["api_name"].lower() != editing.lower()],
        error=error,
        errors=field_messages(error),
    )
    return page, 422 if error else 200


@blueprint.get("/groups")
def groups() -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        found = list_groups(current.connection)
        return render_template("setup/access/groups.html", groups=found)


@blueprint.get("/groups/new")
def new_group() -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return _render(current, {"members": []}, None)


@blueprint.post("/groups/new")
def create_group() -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        form = _form(current)
        saved, error = attempt(
            current,
            lambda: save_group(current.connection, current.actor, current.schema, None, form),
        )
        if error is not None or saved is None:
            return _render(current, form, None, error)
    flash(f"Created group {saved['label']}.")
    return redirect(url_for("setup.groups"), 303)


@blueprint.get("/groups/<name>")
def edit_group(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        group = group_json(current.connection, find_group(current.connection, name))
        return _render(current, group, group["api_name"])


@blueprint.post("/groups/<name>")
def save_group_form(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        group = group_json(current.connection, find_group(current.connection, name))
        form = {**_form(current), "api_name": group["api_name"]}
        saved, error = attempt(
            current,
            lambda: save_group(current.connection, current.actor, current.schema, name, form),
        )
        if error is not None or saved is None:
            return _render(current, form, group["api_name"], error)
    flash(f"Saved group {saved['label']}.")
    return redirect(url_for("setup.groups"), 303)


@blueprint.get("/groups/<name>/delete")
def confirm_delete_group(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        group = group_json(current.connection, find_group(current.connection, name))
        return render_template("setup/access/group_delete.html", group=group, error=None)


@blueprint.post("/groups/<name>/delete")
def delete_group_form(name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        group = group_json(current.connection, find_group(current.connection, name))
        _, error = attempt(
            current,
            lambda: delete_group(current.connection, current.actor, current.schema, name),
        )
        if error is not None:
            page = render_template(
                "setup/access/group_delete.html", group=group, error=error.message
            )
            return page, 409
    flash(f"Deleted group {group['label']}.")
    return redirect(url_for("setup.groups"), 303)
