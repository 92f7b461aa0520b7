"""Setup → Users → Invite and edit: a new user made as ``POST /api/v1/users`` makes one
(without a password: the one-time link lets them choose it), and a user's role,
permission sets and manager changed as ``PATCH /api/v1/users/<id>`` changes them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.access.assignments import assign
from trellis.errors import TrellisError
from trellis.identity.links import pending_links
from trellis.identity.users import create_user, get_user, list_users
from trellis.views.setup.access_common import (
    attempt,
    field_messages,
    parse_uuid,
    sync_user_records,
)
from trellis.views.setup.invites import issue, link_page
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.setup.users import user_status
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = ()


def _assignment_form() -> dict[str, Any]:
    """The role, permission sets and manager the form sent, as the API takes them."""
    manager = request.form.get("manager_id", "").strip()
    return {
        "role": request.form.get("role", "").strip() or None,
        "permission_sets": request.form.getlist("permission_sets"),
        "manager_id": manager or None,
    }


def _choices(current: Screen) -> dict[str, Any]:
    access = current.schema.access
    return {
        "roles": sorted(access.roles.values(), key=lambda r: str(r.get("label")).lower()),
        "permission_sets": [
            access.permission_sets[name] for name in sorted(access.permission_sets)
        ],
    }


def _render_invite(
    current: Screen, form: dict[str, Any], error: TrellisError | None = None
) -> ResponseReturnValue:
    page = render_template(
        "setup/access/user_invite.html",
        form=form,
        error=error,
        errors=field_messages(error),
        **_choices(current),
    )
    return page, 422 if error else 200


@blueprint.get("/users/new")
def invite_user() -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return _render_invite(current, {"permission_sets": ["standard_user"]})


@blueprint.post("/users/new")
def invite_user_save() -> ResponseReturnValue:
    form = {
        "email": request.form.get("email", "").strip(),
        "display_name": request.form.get("display_name", "").strip(),
        "admin": request.form.get("admin") == "on",
        **_assignment_form(),
    }
    with setup_screen("manage_users") as current:

        def write() -> Any:
            row = create_user(
                current.connection,
                current.actor,
                email=form["email"],
                password=None,
                display_name=form["display_name"],
                roles=["admin"] if form["admin"] else [],
            )
            changes: dict[str, Any] = {k: form[k] for k in ("role", "permission_sets")}
            if form["admin"] and not form["permission_sets"]:
                changes.pop("permission_sets")
            row = assign(current.connection, current.actor, current.schema, row.id, changes)
            sync_user_records(current)
            return issue(current, row.id, "invite")

        issued, error = attempt(current, write)
        if error is not None or issued is None:
            return _render_invite(current, form, error)
        return link_page(current, issued)


def _render_edit(
    current: Screen,
    user: Any,
    form: dict[str, Any] | None = None,
    error: TrellisError | None = None,
) -> ResponseReturnValue:
    shown = form or {
        "role": user.role,
        "permission_sets": list(user.permission_sets),
        "manager_id": str(user.manager_id) if user.manager_id else None,
    }
    page = render_template(
        "setup/access/user_edit.html",
        user=user,
        form=shown,
        error=error,
        errors=field_messages(error),
        link=(link := pending_links(current.connection).get(user.id)),
        status=user_status(user, link),
        managers=[row for row in list_users(current.connection) if row.id != user.id],
        is_self=user.id == current.actor.user_id,
        **_choices(current),
    )
    return page, 422 if error else 200


@blueprint.get("/users/<user_id>")
def edit_user(user_id: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        user = get_user(current.connection, parse_uuid(user_id, "user"))
        return _render_edit(current, user)


@blueprint.post("/users/<user_id>")
def edit_user_save(user_id: str) -> ResponseReturnValue:
    form = _assignment_form()
    with setup_screen("manage_users") as current:
        user = get_user(current.connection, parse_uuid(user_id, "user"))

        def write() -> Any:
            row = assign(current.connection, current.actor, current.schema, user.id, form)
            sync_user_records(current)
            return row

        _, error = attempt(current, write)
        if error is not None:
            return _render_edit(current, user, form, error)
    flash(f"Saved the access of {user.email}.")
    return redirect(url_for("setup.edit_user", user_id=str(user.id)), 303)


def user_by_id(current: Screen, raw: str) -> Any:
    user_id: uuid.UUID = parse_uuid(raw, "user")
    return get_user(current.connection, user_id)
