"""Setup → Users: every user of the workspace with their role, permission sets, whether
they are active (or invited and not yet in) and when they last signed in; searched by
email or name, paged."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from trellis.identity.links import pending_links
from trellis.identity.users import list_users
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = (
    Section(
        "users",
        "Users",
        "setup.users",
        "manage_users",
        "Access",
        "Invite people, reset passwords, deactivate accounts and assign roles and permission sets.",
    ),
)
PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class UserRow:
    user: Any
    # As user_status says.
    status: str


def user_status(user: Any, link: Any | None) -> str:
    """``inactive``; ``invited`` (never signed in, link waiting); ``reset`` (link
    waiting); ``no_password`` (made without one, through the API or the command line, and
    no link sent: they cannot sign in yet); else ``active``."""
    if not user.active:
        return "inactive"
    if link is not None:
        return "invited" if link.purpose == "invite" else "reset"
    return "active" if user.password_hash is not None else "no_password"


def matches(user: Any, text: str) -> bool:
    words = text.lower().split()
    haystack = f"{user.email} {user.display_name}".lower()
    return all(word in haystack for word in words)


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 6 else 1


@blueprint.get("/users")
def users() -> ResponseReturnValue:
    text = request.args.get("q", "").strip()[:200]
    page = page_number(request.args.get("page"))
    with setup_screen("manage_users") as current:
        links = pending_links(current.connection)
        found = [user for user in list_users(current.connection) if matches(user, text)]
        pages = max(1, -(-len(found) // PAGE_SIZE))
        page = min(page, pages)
        rows = [
            UserRow(user, user_status(user, links.get(user.id)))
            for user in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        ]
        return render_template(
            "setup/access/users.html",
            rows=rows,
            text=text,
            page=page,
            pages=pages,
            total=len(found),
            labels=_set_labels(current.schema),
        )


def _set_labels(schema: Any) -> dict[str, str]:
    """Each permission set's label by its lower-case name."""
    return {
        name: str(document.get("label") or document["api_name"])
        for name, document in schema.access.permission_sets.items()
    }
