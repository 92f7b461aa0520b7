"""Setup → API access: the workspace's request budget and the browser origins allowed to
call the API (CORS). Saved through the same service as ``PATCH /api/v1/tenant/api-settings``
(:func:`trellis.identity.tenants.set_api_settings`), so both refuse and audit alike; for
administrators, as the API is."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.access.api_settings import change_api_settings
from trellis.access.api_tokens import Origin
from trellis.errors import ValidationError
from trellis.identity.api_policy import api_settings
from trellis.state import get_state
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

RIGHT = "manage_users"
SECTIONS: tuple[Section, ...] = (
    Section(
        "api-access",
        "API access",
        "setup.api_access",
        RIGHT,
        "Access",
        "Requests a minute per token and user, and the browser origins allowed to call.",
    ),
)


def _page(current: Screen, status: int = 200, **shown: Any) -> ResponseReturnValue:
    settings = api_settings(current.connection, current.actor.tenant_id)
    page = render_template(
        "setup/access/api_access.html",
        section="api-access",
        settings=settings,
        default_rate_limit=get_state().config.api_rate_limit,
        **shown,
    )
    return page, status


def _body() -> dict[str, Any]:
    """The form as the API's JSON body; a budget that is not a number stays as typed, so
    the service's own message explains it."""
    raw = request.form.get("rate_limit", "").strip()
    limit: Any = (int(raw) if raw.isdigit() and len(raw) < 10 else raw) if raw else None
    origins = [line.strip() for line in request.form.get("cors_origins", "").splitlines()]
    return {"rate_limit": limit, "cors_origins": [origin for origin in origins if origin]}


@blueprint.get("/api-access")
def api_access() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        current.actor.require_admin()
        return _page(current)


@blueprint.post("/api-access")
def api_access_save() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        body = _body()
        try:
            change_api_settings(
                current.connection,
                current.actor,
                body,
                origin=Origin(request.remote_addr, request.user_agent.string),
            )
        except ValidationError as error:
            errors = {key.partition(".")[0]: value for key, value in error.fields.items()}
            return _page(current, 422, errors=errors, form=request.form)
    flash("API access settings were saved.")
    return redirect(url_for("setup.api_access"))
