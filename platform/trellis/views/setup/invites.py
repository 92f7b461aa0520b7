"""The one-time links an administrator hands out from Setup: an invitation for a new
user, a password reset for an existing one (trellis.identity.links). The link is shown
once, on the page that made it, and mailed to the user where mail is set up."""

from __future__ import annotations

import uuid

from flask import render_template, url_for
from flask.typing import ResponseReturnValue

from trellis import mail
from trellis.identity.links import IssuedLink, issue_link
from trellis.state import get_state
from trellis.views.setup.access_common import audit
from trellis.views.shell import Screen

SUBJECTS = {
    "invite": "You are invited to Trellis",
    "reset": "Set a new Trellis password",
}
BODIES = {
    "invite": (
        "{inviter} invited you to the Trellis workspace {workspace}.\n\n"
        "Open this link to choose your password and sign in:\n{link}\n\n"
        "The link works once and expires on {expires}."
    ),
    "reset": (
        "{inviter} reset your password in the Trellis workspace {workspace}.\n\n"
        "Open this link to choose a new password and sign in:\n{link}\n\n"
        "The link works once and expires on {expires}."
    ),
}


def link_url(issued: IssuedLink) -> str:
    return url_for("invite.open_link_page", token=issued.token, _external=True)


def issue(current: Screen, user_id: uuid.UUID, purpose: str) -> IssuedLink:
    """Make the link (voiding older ones) and record it in the audit trail."""
    issued = issue_link(current.connection, current.actor, user_id, purpose)
    audit(
        current,
        "user.invited" if purpose == "invite" else "user.password_reset",
        "user",
        issued.user.id,
        email=issued.user.email,
        expires_at=issued.expires_at.isoformat(),
        link=True,
    )
    return issued


def mail_link(issued: IssuedLink, inviter: str, workspace: str) -> tuple[bool, str | None]:
    """Send the link to its user if mail is set up: (sent, why not). The console backend
    only logs messages, and a one-time link does not belong in a log, so it sends none."""
    config = get_state().config
    if config.mail_backend == "console":
        return False, None
    body = BODIES[issued.purpose].format(
        inviter=inviter,
        workspace=workspace,
        link=link_url(issued),
        expires=issued.expires_at.strftime("%d %B %Y, %H:%M UTC"),
    )
    message = mail.build(config, [issued.user.email], SUBJECTS[issued.purpose], body)
    try:
        mail.send(config, message)
    except mail.MailError as error:
        return False, str(error)
    return True, None


def link_page(current: Screen, issued: IssuedLink, status: int = 201) -> ResponseReturnValue:
    """The page that shows the link, once."""
    sent, problem = mail_link(
        issued, current.actor.email or "An administrator", current.actor.tenant_slug
    )
    page = render_template(
        "setup/access/link_issued.html",
        issued=issued,
        url=link_url(issued),
        sent=sent,
        mail_problem=problem,
    )
    return page, status
