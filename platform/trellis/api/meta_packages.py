"""``/api/v1/meta/package``: the tenant's metadata as one package, and importing one.

``GET`` answers JSON, or YAML with ``Accept: application/yaml``. ``POST`` takes a
package as JSON or YAML (``?dry_run=true`` to only see the plan, ``?force=true`` to
allow changes that drop values) and answers with the plan.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.access.audit import record_audit
from trellis.api.context import flag, metadata_service, schedule_index_build, tenant_transaction
from trellis.api.request import json_body, unstorable_text
from trellis.errors import UnsupportedMediaType, ValidationError
from trellis.identity.auth import require_actor
from trellis.metadata.package_format import dump_package, parse_package
from trellis.metadata.package_plan import plan_changed
from trellis.records.list_view_packages import export_with_list_views, import_with_list_views

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def export_view() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor)
        package = export_with_list_views(service)
        record_audit(
            connection,
            actor,
            "metadata.exported",
            target_type="metadata_revision",
            target_id=str(service.schema().revision),
            address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    wanted = request.accept_mimetypes.best_match(
        ["application/json", *YAML_TYPES], default="application/json"
    )
    if wanted in YAML_TYPES:
        response = Response(dump_package(package, "yaml"), mimetype="application/yaml")
    else:
        response = Response(dump_package(package, "json"), mimetype="application/json")
    response.vary.add("Accept")
    return response


def import_view() -> ResponseReturnValue:
    # Refuse non-administrators before reading a possibly large body.
    require_actor().require_right("import")
    dry_run, force = flag("dry_run"), flag("force")
    package = _package_body()
    with tenant_transaction() as (connection, actor):
        plan, access, views = import_with_list_views(
            metadata_service(connection, actor),
            package,
            dry_run=dry_run,
            force=force,
            message=request.args.get("message", ""),
        )
    changed = plan_changed(plan) or any(
        entry["action"] != "unchanged" for entry in (*access, *views)
    )
    if changed and not dry_run:
        schedule_index_build(actor.tenant_id)
    return jsonify(
        {
            "dry_run": dry_run,
            "changed": changed,
            "plan": plan,
            "access": access,
            "list_views": views,
        }
    )


def _package_body() -> object:
    if request.mimetype in YAML_TYPES:
        # Flask's MAX_CONTENT_LENGTH bounds what get_data reads.
        package = parse_package(request.get_data(cache=True), "yaml")
        problems = unstorable_text(package)  # the same text check JSON bodies get
        if problems:
            raise ValidationError("Some text cannot be stored.", fields=problems)
        return package
    if request.mimetype == "application/json":
        return json_body()
    raise UnsupportedMediaType(
        "Send the package as JSON (application/json) or YAML (application/yaml)."
    )


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/meta/package", view_func=export_view, methods=["GET"])
    blueprint.add_url_rule("/meta/package", view_func=import_view, methods=["POST"])
