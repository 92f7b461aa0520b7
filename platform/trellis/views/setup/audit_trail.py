"""Setup → Audit trail: who did what, newest first, as ``GET /api/v1/audit`` lists it
(trellis.access.audit.list_events), filtered by action, actor, target type and dates,
paged by the same keyset cursor, each event's details one click away."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from flask import render_template, request
from flask.typing import ResponseReturnValue

from trellis.access.audit import ACTIONS, list_events
from trellis.access.tables import audit_events
from trellis.identity.mfa import AUDIT_ACTIONS as MFA_ACTIONS
from trellis.identity.users import list_users
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = (
    Section(
        "audit",
        "Audit trail",
        "setup.audit_trail",
        "view_audit",
        "Access",
        "Sign-ins, changes to users, access and metadata: who did what, and when.",
    ),
)
PAGE_SIZE = 50


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _filters(args: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The list_events filters the form asks for, and a message per filter it got wrong
    (that filter is left out rather than the page refused)."""
    problems: dict[str, str] = {}
    actor_id = None
    if args["actor"]:
        try:
            actor_id = uuid.UUID(args["actor"])
        except ValueError:
            problems["actor"] = "Choose a user from the list."
    since, until = _day(args["since"]), _day(args["until"])
    for name, value in (("since", since), ("until", until)):
        if args[name] and value is None:
            problems[name] = "Give a date as YYYY-MM-DD."
    if since and until and until < since:
        problems["until"] = "The end is before the start."
        until = None
    # Dates are whole days in UTC, the end day included.
    return {
        "action": args["action"] or None,
        "actor_id": actor_id,
        "target_type": args["target_type"] or None,
        "since": dt.datetime.combine(since, dt.time(), dt.UTC) if since else None,
        "until": dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        if until
        else None,
    }, problems


@blueprint.get("/audit")
def audit_trail() -> ResponseReturnValue:
    keys = ("action", "actor", "target_type", "since", "until", "cursor")
    args = {key: request.args.get(key, "").strip()[:100] for key in keys}
    filters, problems = _filters(args)
    cursor = int(args["cursor"]) if args["cursor"].isdigit() and len(args["cursor"]) < 19 else None
    with setup_screen("view_audit") as current:
        rows = list_events(current.connection, **filters, before_id=cursor, limit=PAGE_SIZE + 1)
        target_types = current.connection.execute(
            sa.select(audit_events.c.target_type)
            .where(audit_events.c.target_type.isnot(None))
            .distinct()
            .order_by(audit_events.c.target_type)
        ).scalars()
        page = render_template(
            "setup/access/audit_trail.html",
            events=rows[:PAGE_SIZE],
            next_cursor=rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
            args=args,
            problems=problems,
            actions=sorted({*ACTIONS, *MFA_ACTIONS}),
            target_types=list(target_types),
            users=list_users(current.connection),
            filtered=any(args[key] for key in keys if key != "cursor"),
        )
        return page, 422 if problems else 200
