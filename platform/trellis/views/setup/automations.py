"""Setup → Automate → Automations: every automation in the order it runs, with its last
run; switching one on or off, moving it among its object's, and deleting it (after a
confirmation). Each change goes through :mod:`trellis.automation.definitions`, so it is a
revision of the object's metadata and in the audit trail, as through the API."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from trellis.automation import definitions
from trellis.automation.run_log import last_statuses
from trellis.automation.tables import automation_runs
from trellis.views.setup.automation_form import RIGHT, automations_service
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = (
    Section(
        "automations",
        "Automations",
        "setup.automations",
        RIGHT,
        "Automate",
        "Act when records are created, changed or deleted, on a schedule or on demand.",
    ),
)


@blueprint.get("/automations")
def automations() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        service = automations_service(current)
        found = definitions.ordered_automations(service)
        last = last_statuses(current.connection)
        rows = [
            {"object": name, "automation": automation, "last": last.get(automation["api_name"])}
            for name, automation in found
        ]
        return render_template("setup/automations/list.html", rows=rows)


def _back() -> Response:
    return redirect(url_for("setup.automations"), 303)


@blueprint.post("/automations/<api_name>/active")
def switch_automation(api_name: str) -> ResponseReturnValue:
    active = request.form.get("active") == "true"
    with setup_screen(RIGHT) as current:
        service = automations_service(current)
        definitions.set_active(service, api_name, active)
    flash(f"Automation {api_name} is {'on' if active else 'off'}.")
    return _back()


@blueprint.post("/automations/<api_name>/move")
def move_automation(api_name: str) -> ResponseReturnValue:
    step = -1 if request.form.get("direction") == "up" else 1
    with setup_screen(RIGHT) as current:
        definitions.move_automation(automations_service(current), api_name, step)
    flash(f"Moved automation {api_name} {'earlier' if step < 0 else 'later'}.")
    return _back()


@blueprint.route("/automations/<api_name>/delete", methods=["GET", "POST"])
def delete_automation(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        service = automations_service(current)
        object_name, automation = definitions.find_automation(service, api_name)
        if request.method == "POST":
            definitions.delete_automation(service, automation["api_name"])
        else:
            runs = current.connection.execute(
                automation_runs.select()
                .with_only_columns(automation_runs.c.id)
                .where(automation_runs.c.automation == automation["api_name"])
                .where(automation_runs.c.status.in_(("queued", "running", "waiting")))
            ).all()
            return render_template(
                "setup/automations/delete.html",
                object_name=object_name,
                automation=automation,
                pending=len(runs),
            )
    flash(f"Deleted automation {automation.get('label') or automation['api_name']}.")
    return _back()
