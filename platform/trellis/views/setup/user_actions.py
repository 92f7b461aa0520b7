"""Setup → Users → a user's account actions, each confirmed first with what it will do:
reset the password (a one-time link; the old password and every browser session end),
resend an invitation, deactivate (sessions end, API tokens are revoked, links void) and
reactivate. Each is audited as the command line's equivalent is."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import Conflict
from trellis.identity.tables import api_tokens, user_sessions
from trellis.identity.users import deactivate_user, reactivate_user
from trellis.views.setup.access_common import attempt, audit, sync_user_records
from trellis.views.setup.invites import issue, link_page
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.setup.user_form import user_by_id
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = ()

ACTIONS = ("reset", "invite", "deactivate", "reactivate")


def _holdings(current: Screen, user: Any) -> dict[str, int]:
    """What an action would end: the user's live sessions and unrevoked API tokens."""
    sessions = current.connection.execute(
        sa.select(sa.func.count())
        .select_from(user_sessions)
        .where(user_sessions.c.user_id == user.id, user_sessions.c.expires_at > sa.func.now())
    ).scalar_one()
    tokens = current.connection.execute(
        sa.select(sa.func.count())
        .select_from(api_tokens)
        .where(api_tokens.c.user_id == user.id, api_tokens.c.revoked_at.is_(None))
    ).scalar_one()
    return {"sessions": int(sessions), "tokens": int(tokens)}


def _confirm(
    current: Screen, user: Any, action: str, error: str | None = None
) -> ResponseReturnValue:
    page = render_template(
        "setup/access/user_confirm.html",
        user=user,
        action=action,
        holdings=_holdings(current, user),
        is_self=user.id == current.actor.user_id,
        error=error,
    )
    return page, 409 if error else 200


@blueprint.get("/users/<user_id>/<any(reset, invite, deactivate, reactivate):action>")
def confirm_user_action(user_id: str, action: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        return _confirm(current, user_by_id(current, user_id), action)


@blueprint.post("/users/<user_id>/<any(reset, invite):action>")
def issue_user_link(user_id: str, action: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        user = user_by_id(current, user_id)
        issued, error = attempt(current, lambda: issue(current, user.id, action))
        if error is not None or issued is None:
            return _confirm(current, user, action, error.message if error else None)
        return link_page(current, issued, 200)


@blueprint.post("/users/<user_id>/deactivate")
def deactivate(user_id: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        user = user_by_id(current, user_id)

        def write() -> tuple[int, int]:
            _, sessions, tokens = deactivate_user(current.connection, current.actor, user.email)
            audit(
                current,
                "user.deactivated",
                "user",
                user.id,
                email=user.email,
                sessions=sessions,
                tokens=tokens,
            )
            sync_user_records(current)
            return sessions, tokens

        ended, error = attempt(current, write)
        if error is not None or ended is None:
            return _confirm(current, user, "deactivate", error.message if error else None)
    flash(
        f"Deactivated {user.email}: ended {ended[0]} session(s) and revoked {ended[1]} API "
        "token(s)."
    )
    return redirect(url_for("setup.edit_user", user_id=str(user.id)), 303)


@blueprint.post("/users/<user_id>/reactivate")
def reactivate(user_id: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        user = user_by_id(current, user_id)
        if user.active:
            raise Conflict(f"{user.email} is active already.")
        reactivate_user(current.connection, current.actor, user.email)
        audit(current, "user.reactivated", "user", user.id, email=user.email)
        sync_user_records(current)
    flash(f"Reactivated {user.email}. Reset their password if they no longer know it.")
    return redirect(url_for("setup.edit_user", user_id=str(user.id)), 303)
