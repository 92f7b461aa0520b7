"""Setup → Why can they see it: pick a user and a record (by object and id, or by name)
and read why that user may or may not read, edit and delete it, as
``GET /api/v1/access/explain`` explains it (trellis.access.explain)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from trellis.access.explain import explain
from trellis.errors import NotFound
from trellis.identity.users import list_users
from trellis.views.lookup_options import matching_records, record_name
from trellis.views.setup.access_common import objects_by_label
from trellis.views.setup.explain_steps import steps, verdict
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = (
    Section(
        "explain",
        "Why can they see it?",
        "setup.explain_access",
        "manage_users",
        "Access",
        "Pick a user and a record: see every grant that opens it to them, or that none does.",
    ),
)


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _explanation(
    current: Screen, user_id: uuid.UUID, api_name: str, record: str
) -> tuple[dict[str, Any] | None, str | None]:
    obj = current.schema.objects.get(api_name.lower()) if api_name else None
    record_id = _uuid(record)
    if obj is None or record_id is None:
        return None, "Choose an object and give a record id, or find the record by name."
    try:
        return explain(
            current.connection, current.actor, current.schema, user_id, obj, record_id
        ), None
    except NotFound as error:
        return None, error.message


@blueprint.get("/explain")
def explain_access() -> ResponseReturnValue:
    args = {
        key: request.args.get(key, "").strip()[:200] for key in ("user", "object", "record", "q")
    }
    with setup_screen("manage_users") as current:
        users = list_users(current.connection)
        emails = {str(user.id): user.email for user in users}
        explanation = problem = None
        matches: list[Any] = []
        user_id = _uuid(args["user"])
        obj = current.schema.objects.get(args["object"].lower()) if args["object"] else None
        if args["q"] and obj is not None and not args["record"]:
            matches, _ = matching_records(current, obj, args["q"])
        elif args["record"] or args["user"]:
            if user_id is None or str(user_id) not in emails:
                problem = "Choose a user."
            else:
                explanation, problem = _explanation(
                    current, user_id, args["object"], args["record"]
                )
        page = render_template(
            "setup/access/explain.html",
            args=args,
            users=users,
            objects=objects_by_label(current.schema),
            obj=obj,
            matches=matches,
            explanation=explanation,
            steps=steps(explanation, emails) if explanation else [],
            verdict=verdict(explanation) if explanation else [],
            problem=problem,
            emails=emails,
            name=record_name(current, obj, args["record"]) if explanation and obj else None,
        )
        return page, 404 if problem and args["record"] else 200
