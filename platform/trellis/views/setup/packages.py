"""Setup's metadata package screen: export the workspace's metadata (the same bytes as
``GET /api/v1/meta/package``, audited alike) and import one: a dry run first, shown as
a diff per object, role, permission set and list view, then the real import of the same
text, which checks everything again. Both go through the services the API uses
(:func:`export_with_list_views`, :func:`import_with_list_views`)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.access.audit import record_audit
from trellis.errors import BadRequest, Conflict, TrellisError, ValidationError
from trellis.metadata.package_format import dump_package
from trellis.metadata.package_plan import plan_changed
from trellis.metadata.service import MetadataService
from trellis.outbox.worker_nudges import schedule_index_build
from trellis.records.list_view_packages import export_with_list_views, import_with_list_views
from trellis.state import get_state
from trellis.views.setup.metadata_diff import DocumentDiff, lines_of
from trellis.views.setup.package_input import PackageText, parsed, problems, submitted_package
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

RIGHT = "manage_metadata"
MEDIA_TYPES = {"yaml": "application/yaml", "json": "application/json"}
REFUSALS = {BadRequest: 400, Conflict: 409, ValidationError: 422}

SECTIONS: tuple[Section, ...] = (
    Section(
        "package",
        "Package",
        "setup.package",
        RIGHT,
        "Metadata",
        "Export the workspace's metadata as a file, or import one with a preview first.",
    ),
)


def _service(current: Screen) -> MetadataService:
    return MetadataService(current.connection, current.actor, get_state().metadata_cache, RIGHT)


def _page(status: int = 200, **shown: Any) -> ResponseReturnValue:
    return render_template("setup/metadata/package.html", section="package", **shown), status


@blueprint.get("/package")
def package() -> ResponseReturnValue:
    with setup_screen(RIGHT):
        return _page()


@blueprint.get("/package/export.<any(yaml, json):format>")
def package_export(format: str) -> ResponseReturnValue:
    with setup_screen(RIGHT, with_shell=False) as current:
        service = _service(current)
        document = export_with_list_views(service)
        revision = service.schema().revision
        record_audit(
            current.connection,
            current.actor,
            "metadata.exported",
            target_type="metadata_revision",
            target_id=str(revision),
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    response = Response(dump_package(document, format), mimetype=MEDIA_TYPES[format])
    name = f"trellis-{current.actor.tenant_slug}-r{revision}.{format}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _import(current: Screen, text: PackageText, *, dry_run: bool) -> dict[str, Any]:
    force = request.form.get("force") == "yes"
    plan, access, views = import_with_list_views(
        _service(current),
        parsed(text),
        dry_run=dry_run,
        force=force,
        message=request.form.get("message", "")[:500],
    )
    changed = plan_changed(plan) or any(
        entry["action"] != "unchanged" for entry in (*access, *views)
    )
    objects = [
        (entry["action"], DocumentDiff("object", entry["object"], lines_of(entry["diff"])))
        for entry in plan
    ]
    others = [
        (entry["action"], DocumentDiff(entry["kind"], entry["api_name"], lines_of(entry["diff"])))
        for entry in (*access, *views)
    ]
    return {"objects": objects, "others": others, "changed": changed, "force": force}


def _refused(error: TrellisError, text: PackageText | None) -> ResponseReturnValue:
    status = next((code for kind, code in REFUSALS.items() if isinstance(error, kind)), 422)
    return _page(status, error=error, problems=problems(error), submitted=text)


@blueprint.post("/package/preview")
def package_preview() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        current.actor.require_right("import")
        text = None
        try:
            text = submitted_package()
            outcome = _import(current, text, dry_run=True)
        except (BadRequest, Conflict, ValidationError) as error:
            return _refused(error, text)
        return render_template(
            "setup/metadata/package_preview.html",
            section="package",
            submitted=text,
            # The revision the preview was made against: apply refuses to run on another.
            previewed=current.schema.revision,
            **outcome,
        )


@blueprint.post("/package/apply")
def package_apply() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        current.actor.require_right("import")
        text = None
        try:
            text = submitted_package()
            if request.form.get("previewed", str(current.schema.revision)) != str(
                current.schema.revision
            ):
                raise Conflict(
                    "The metadata changed after the preview: preview the package again to "
                    "see what it would change now.",
                    code="stale_preview",
                )
            outcome = _import(current, text, dry_run=False)
        except (BadRequest, Conflict, ValidationError) as error:
            return _refused(error, text)
        tenant_id = current.actor.tenant_id
    if outcome["changed"]:
        schedule_index_build(tenant_id)
        flash("The package was imported.")
    else:
        flash("The package matched the workspace: nothing was changed.")
    return redirect(url_for("setup.package"))
