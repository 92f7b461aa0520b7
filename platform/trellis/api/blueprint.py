"""The REST API's one blueprint: every resource module registers its routes on it."""

from __future__ import annotations

import flask
from flask import Blueprint, Response

from trellis.access.tasks import RECOMPUTE_TASK
from trellis.api import (
    access,
    audit,
    automation_runs,
    automation_trigger,
    cors,
    imports,
    list_views,
    me,
    meta,
    meta_automations,
    meta_formulas,
    meta_packages,
    mfa,
    openapi,
    privacy,
    rate_limits,
    record_export,
    record_shares,
    records,
    search,
    tenant_api_settings,
    tenant_security,
    tokens,
    webhooks,
)
from trellis.api.context import nudge_worker
from trellis.api.request import refuse_unstorable_parameters
from trellis.outbox.nudges import schedule_event_dispatch

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Changes that may queue a share recomputation (trellis.access.recompute).
# (Other metadata writes that change rules are left to the beat: most queue nothing.)
RECOMPUTING_PATHS = (
    "/api/v1/meta/sharing-rules",
    "/api/v1/meta/roles",
    "/api/v1/groups",
    "/api/v1/users",
)


def create_blueprint() -> Blueprint:
    """The ``/api/v1`` blueprint with every resource's routes."""
    blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
    # Before any view: a CORS preflight is answered, then the request's budget is spent.
    cors.register(blueprint)
    rate_limits.register(blueprint)
    me.register(blueprint)
    mfa.register(blueprint)
    tenant_security.register(blueprint)
    tenant_api_settings.register(blueprint)
    audit.register(blueprint)
    tokens.register(blueprint)
    meta.register(blueprint)
    meta_packages.register(blueprint)
    meta_automations.register(blueprint)
    meta_formulas.register(blueprint)
    records.register(blueprint)
    imports.register(blueprint)
    search.register(blueprint)
    record_export.register(blueprint)
    list_views.register(blueprint)
    privacy.register(blueprint)
    record_shares.register(blueprint)
    access.register(blueprint)
    automation_runs.register(blueprint)
    automation_trigger.register(blueprint)
    webhooks.register(blueprint)
    openapi.register(blueprint)
    blueprint.before_request(refuse_unstorable_parameters)

    @blueprint.after_request
    def dispatch_record_events(response: Response) -> Response:
        # A successful record write committed outbox events: have them dispatched now
        # rather than at the next periodic sweep.
        if (
            flask.request.method in WRITE_METHODS
            and response.status_code < 400
            and flask.request.path.startswith("/api/v1/objects/")
        ):
            schedule_event_dispatch()
        if (
            flask.request.method in WRITE_METHODS
            and response.status_code < 400
            and flask.request.path.startswith(RECOMPUTING_PATHS)
        ):
            # Sharing rules, roles, groups or a user's role changed: recompute shares now
            # rather than at the next beat.
            nudge_worker(RECOMPUTE_TASK)
        return response

    return blueprint
