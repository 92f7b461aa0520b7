"""Shared list views in metadata packages: a ``list_views`` key beside the objects.

Each entry names its ``object`` and carries the view as the API takes it (``api_name``,
``label``, ``columns``, ``filters``, ``sort`` and, for a board, ``board``); private
views are users' own and never travel. An import makes each shared view match its entry
(after the objects, whose fields the views name), leaves the tenant's other views alone,
and is all or nothing with the rest of the package: :func:`import_with_list_views` wraps
the objects' and access metadata's import in one savepoint."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.access.packages import all_or_nothing, import_with_access
from trellis.errors import TrellisError, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.documents import diff_definitions
from trellis.metadata.package_export import export_package
from trellis.metadata.service import MetadataService
from trellis.records.list_view_checks import parse_view
from trellis.records.list_view_store import save_changes, stored_shared_view
from trellis.records.list_views import DEFAULT_SORT, ListView
from trellis.records.tables import list_views

PLAN = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def export_with_list_views(service: MetadataService) -> dict[str, Any]:
    """The tenant's package (:func:`~trellis.metadata.package_export.export_package`)
    with its shared list views, by object and name."""
    package = export_package(service)
    schema = service.schema()
    rows = service.connection.execute(
        sa.select(list_views).where(
            list_views.c.tenant_id == service.actor.tenant_id, list_views.c.owner_id.is_(None)
        )
    ).all()
    documents = []
    for row in rows:
        obj = next((o for o in schema.objects.values() if o.id == row.object_id), None)
        if obj is None:  # the view of an object since deleted
            continue
        definition = row.definition
        document: dict[str, Any] = {
            "object": obj.api_name,
            "api_name": row.api_name,
            "label": row.label,
            "columns": [
                column["field"] if column.get("width") is None else column
                for column in definition["columns"]
            ],
        }
        if definition["filters"]:
            document["filters"] = definition["filters"]
        document["sort"] = definition["sort"]
        if definition.get("board"):
            document["board"] = definition["board"]
        documents.append(document)
    if documents:
        package["list_views"] = sorted(
            documents, key=lambda d: (d["object"].lower(), d["api_name"].lower())
        )
    return package


def import_with_list_views(
    service: MetadataService,
    package: Any,
    *,
    dry_run: bool = False,
    force: bool = False,
    message: str = "",
) -> PLAN:
    """Import a whole package, all or nothing: access metadata and objects
    (:func:`~trellis.access.packages.import_with_access`), then the shared list views.
    The object, access and list view plans; a dry run is the real import, rolled back."""
    with all_or_nothing(service, dry_run=dry_run):
        plan, access = import_with_access(service, package, force=force, message=message)
        views = import_list_views(service.connection, service, package)
    return plan, access, views


def import_list_views(
    connection: Connection, service: MetadataService, package: Any
) -> list[dict[str, Any]]:
    """Make the tenant's shared views match the package's; one plan entry per view,
    ``{"kind": "list_view", "api_name": "Object.view", "action", "diff"}`` (the diff as
    :func:`diff_definitions` writes it, of the label and the stored definition). Every
    entry is checked before any is saved, so one report names every problem."""
    documents = package.get("list_views") or [] if isinstance(package, dict) else []
    if not documents:
        return []
    schema = service.schema()
    access = Access.of(service.actor, schema)
    checked: list[tuple[ObjectSchema, ListView, str, list[dict[str, Any]]]] = []
    errors: dict[str, list[str]] = {}
    for index, document in enumerate(documents):
        try:
            checked.append(_checked(connection, access, document))
        except TrellisError as error:
            for key, messages in (error.fields or {"": [error.message]}).items():
                errors[f"list_views.{index}" + (f".{key}" if key else "")] = messages
    if errors:
        raise ValidationError("The package's list views are invalid.", fields=errors)
    plan = []
    for obj, view, action, diff in checked:
        if action != "unchanged":
            save_changes(connection, service.actor, obj, view)
        name = f"{obj.api_name}.{view.api_name}"
        plan.append({"kind": "list_view", "api_name": name, "action": action, "diff": diff})
    return plan


def _checked(
    connection: Connection, access: Access, document: dict[str, Any]
) -> tuple[ObjectSchema, ListView, str, list[dict[str, Any]]]:
    """(object, view as it will be stored, action, diff) for one package entry."""
    obj = access.schema.object(document["object"])
    body = {key: value for key, value in document.items() if key != "object"}
    if body.pop("visibility", "shared") != "shared":
        raise ValidationError(
            "A package carries shared views only.", fields={"visibility": "shared"}
        )
    # The entry is the whole view: what it leaves out takes the defaults, not what is stored.
    body = {"filters": [], "sort": DEFAULT_SORT, "board": None, **body}
    current = stored_shared_view(connection, access, obj, str(document["api_name"]))
    if current is None:
        view = parse_view(obj, access.schema, access, {**body, "visibility": "shared"})
        return obj, view, "create", diff_definitions(None, _stored(view))
    view = parse_view(obj, access.schema, access, body, current)
    before, after = _stored(current), _stored(view)
    if before == after:
        return obj, view, "unchanged", []
    return obj, view, "update", diff_definitions(before, after)


def _stored(view: ListView) -> dict[str, Any]:
    """What an import compares of a view: its label and stored definition."""
    return {"label": view.label, **view.definition()}
