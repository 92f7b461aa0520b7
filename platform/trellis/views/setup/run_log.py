"""Setup → Automate → Run log: the automation runs (the run-log API's data), filtered by
automation, status and day; one run with its error and its actions, done or not; and
replaying a dead or failed run after a confirmation, as the replay API does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.automation import definitions
from trellis.automation import run_log as runs
from trellis.errors import NotFound
from trellis.outbox.worker_nudges import nudge_worker
from trellis.views.setup.automation_form import RIGHT, automations_service
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = (
    Section(
        "automation_runs",
        "Run log",
        "setup.automation_runs",
        RIGHT,
        "Automate",
        "Every automation run: what it did, what failed and why; replay dead runs.",
    ),
)
PAGE = 50
STATUS_BADGES = {
    "succeeded": "badge-success",
    "failed": "badge-overdue",
    "dead": "badge-overdue",
    "queued": "badge-soon",
    "running": "badge-soon",
    "waiting": "badge-today",
}


def _day(name: str, errors: dict[str, str]) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


def _filters() -> tuple[dict[str, Any], dict[str, dt.datetime], dict[str, str]]:
    """The run-log filters in the query string: columns to match, moments, problems."""
    errors: dict[str, str] = {}
    equal: dict[str, Any] = {}
    if request.args.get("automation"):
        equal["automation"] = request.args["automation"]
    status = request.args.get("status", "")
    if status in runs.STATUSES:
        equal["status"] = status
    moments = {}
    start, end = _day("from", errors), _day("to", errors)
    if start is not None:
        moments["created_at__gte"] = dt.datetime.combine(start, dt.time(), dt.UTC)
    if end is not None:
        # The whole of the last day.
        moments["created_at__lte"] = dt.datetime.combine(end, dt.time.max, dt.UTC)
    return equal, moments, errors


def _objects(current: Screen) -> dict[Any, str]:
    return {obj.id: obj.api_name for obj in current.schema.objects.values()}


@blueprint.get("/automation-runs")
def automation_runs() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        equal, moments, errors = _filters()
        before = request.args.get("before", "")
        page, more = runs.find_runs(
            current.connection,
            current.actor,
            equal=equal,
            moments=moments,
            before_id=int(before) if before.isdigit() else None,
            limit=PAGE,
        )
        names = sorted(
            a["api_name"] for _, a in definitions.all_automations(automations_service(current))
        )
        filtered = {
            key: request.args.get(key, "") for key in ("automation", "status", "from", "to")
        }
        return render_template(
            "setup/automations/runs.html",
            runs=page,
            more=more,
            objects=_objects(current),
            names=names,
            statuses=runs.STATUSES,
            badges=STATUS_BADGES,
            filtered=filtered,
            errors=errors,
            is_filtered=any(filtered.values()),
        )


def _steps(current: Screen, run: Any) -> list[dict[str, Any]]:
    """The run's automation's actions as they are now, each done by this run or not."""
    try:
        _, automation = definitions.find_automation(automations_service(current), run.automation)
    except NotFound:
        return []
    done = set(run.actions_done or ())
    return [
        {"index": index, "type": action["type"], "done": index in done}
        for index, action in enumerate(automation.get("actions", []))
    ]


@blueprint.get("/automation-runs/<int:run_id>")
def automation_run(run_id: int) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        run = runs.get_run(current.connection, current.actor, run_id)
        return render_template(
            "setup/automations/run.html",
            run=run,
            steps=_steps(current, run),
            object_name=_objects(current).get(run.object_id),
            badges=STATUS_BADGES,
            replayable=run.status in runs.REPLAYABLE,
        )


@blueprint.route("/automation-runs/<int:run_id>/replay", methods=["GET", "POST"])
def replay_run(run_id: int) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        if request.method == "GET":
            run = runs.get_run(current.connection, current.actor, run_id)
            return render_template(
                "setup/automations/replay.html",
                run=run,
                steps=_steps(current, run),
                replayable=run.status in runs.REPLAYABLE,
            )
        runs.replay_run(current.connection, current.actor, run_id)
        tenant_id = current.actor.tenant_id
    # Committed: a hand-off lost now is re-sent by the outbox sweep.
    nudge_worker("trellis.run_automation", str(tenant_id), run_id)
    flash(f"Run {run_id} is queued again; actions it already did are not repeated.")
    return redirect(url_for("setup.automation_run", run_id=run_id), 303)
