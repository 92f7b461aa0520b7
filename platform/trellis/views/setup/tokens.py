"""Setup's API tokens: the signed-in user's tokens (an administrator sees everyone's, as
``GET /api/v1/tokens`` answers), a new one shown once, and revoking one. The same
service as ``/api/v1/tokens`` (:mod:`trellis.access.api_tokens`) checks, stores and
audits them. The screen is for users whose permission sets grant the API: a token acts
only while they do."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Row

from trellis.access.api_tokens import MAX_DAYS, Origin, issue_token, withdraw_token
from trellis.actor import TOKEN_SCOPES
from trellis.errors import NotFound, ValidationError
from trellis.identity.tokens import list_tokens
from trellis.views.setup.metadata_diff import people
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

RIGHT = "api"
SCOPE_HINTS = {
    "read": "Read records and metadata (safe requests only).",
    "write": "Also create, change and delete records.",
    "admin": "Also act with your Setup rights (metadata, users, automations).",
}

SECTIONS: tuple[Section, ...] = (
    Section(
        "api-tokens",
        "API tokens",
        "setup.tokens",
        RIGHT,
        "Access",
        "Tokens for scripts and integrations to call the API as you.",
    ),
)


def _origin() -> Origin:
    return Origin(request.remote_addr, request.user_agent.string)


def state(row: Row[Any], now: dt.datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def _page(current: Screen, status: int = 200, **shown: Any) -> ResponseReturnValue:
    rows = list_tokens(current.connection, current.actor)
    now = dt.datetime.now(dt.UTC)
    # Active tokens first, newest first; revoked and expired ones after them.
    rows.sort(key=lambda row: (state(row, now) != "active", -row.created_at.timestamp()))
    page = render_template(
        "setup/integrations/tokens.html",
        section="api-tokens",
        tokens=[(row, state(row, now)) for row in rows],
        owners=people(current.connection, (row.user_id for row in rows)),
        scopes=[(scope, SCOPE_HINTS.get(scope, "")) for scope in TOKEN_SCOPES],
        max_days=MAX_DAYS,
        **shown,
    )
    return page, status


def _body() -> dict[str, Any]:
    """The form as the API's JSON body: text the API would refuse stays as typed, so the
    service's own message explains it."""
    body: dict[str, Any] = {
        "name": request.form.get("name", "").strip(),
        "scopes": request.form.getlist("scopes"),
    }
    days = request.form.get("expires_in_days", "").strip()
    if days:
        body["expires_in_days"] = int(days) if days.isdigit() and len(days) < 6 else days
    return body


@blueprint.get("/tokens")
def tokens() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        return _page(current)


@blueprint.post("/tokens")
def token_create() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        body = _body()
        try:
            token, row = issue_token(current.connection, current.actor, body, origin=_origin())
        except ValidationError as error:
            return _page(current, 422, errors=error.fields, form=request.form)
        # The plaintext is in this response only: it is stored as a digest.
        return _page(current, created=row, secret=token)


def _token(current: Screen, token_id: uuid.UUID) -> Row[Any]:
    found = [row for row in list_tokens(current.connection, current.actor) if row.id == token_id]
    if not found or found[0].revoked_at is not None:
        raise NotFound("No such active token.")
    return found[0]


@blueprint.get("/tokens/<uuid:token_id>/revoke")
def token_revoke_confirm(token_id: uuid.UUID) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        row = _token(current, token_id)
        return render_template(
            "setup/integrations/token_revoke.html",
            section="api-tokens",
            token=row,
            mine=row.user_id == current.actor.user_id,
            owner=people(current.connection, [row.user_id]).get(row.user_id),
        )


@blueprint.post("/tokens/<uuid:token_id>/revoke")
def token_revoke(token_id: uuid.UUID) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        row = _token(current, token_id)
        withdraw_token(current.connection, current.actor, token_id, origin=_origin())
    flash(f"Token “{row.name}” was revoked: requests that send it are refused from now on.")
    return redirect(url_for("setup.tokens"))
