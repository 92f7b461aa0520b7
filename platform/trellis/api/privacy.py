"""``/api/v1/privacy``: export everything held about a person, and erase it
(:mod:`trellis.records.privacy` does the work and decides who may)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.errors import BadRequest
from trellis.identity.auth import require_actor
from trellis.outbox.nudges import schedule_event_dispatch
from trellis.records.privacy.erase import ANONYMISE, erase_person
from trellis.records.privacy.export import export_person
from trellis.records.privacy.rights import require_privacy_officer
from trellis.records.privacy.subject import SUBJECT_KEYS, parse_subject
from trellis.state import get_state

ERASE_KEYS = frozenset({*SUBJECT_KEYS, "mode", "confirm"})


def export_subject() -> ResponseReturnValue:
    """Everything held about a person, as one JSON document."""
    # Who may ask comes before what they asked: a refused caller learns nothing more.
    require_privacy_officer(require_actor())
    subject = parse_subject(request.args)
    with tenant_transaction() as (connection, actor):
        schema = get_state().metadata_cache.get(connection, actor.tenant_id)
        document = export_person(
            connection,
            actor,
            schema,
            subject,
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    return jsonify(document)


def erase_subject() -> ResponseReturnValue:
    """Anonymise or delete a person's records; without ``confirm``, a preview."""
    require_privacy_officer(require_actor())
    body = json_body()
    unknown = sorted(set(body) - ERASE_KEYS)
    if unknown:
        raise BadRequest(
            f"Unknown properties: {', '.join(unknown)}.",
            fields=dict.fromkeys(unknown, "Not a property of an erasure."),
        )
    subject = parse_subject(body)
    with tenant_transaction() as (connection, actor):
        schema = get_state().metadata_cache.get(connection, actor.tenant_id)
        report = erase_person(
            connection,
            actor,
            schema,
            subject,
            mode=body.get("mode", ANONYMISE),
            confirm=body.get("confirm", False),
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    # The erasure wrote record events (scrubbed): hand them on now, not at the next sweep.
    schedule_event_dispatch()
    return jsonify(report)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/privacy/export", view_func=export_subject, methods=["GET"])
    blueprint.add_url_rule("/privacy/erase", view_func=erase_subject, methods=["POST"])
