"""The import screen, ``/o/<Object>/import``: upload a CSV file, check the column
mapping, run a dry run, start the import and follow its progress to the result. It is a
client of the import service (trellis.imports.service), as ``/api/v1/imports`` is.

Everything works without JavaScript: the steps are forms, and the progress page has a
Refresh link. import.js polls the job while it runs and moves the progress bar; since
the progress is kept in PostgreSQL, a reload (or a restarted worker) loses nothing.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import TrellisError
from trellis.imports.cells import label
from trellis.imports.jobs import job_json, progress
from trellis.imports.mapping import BY_NAME, RECORD_ID, writable
from trellis.imports.service import ImportService, file_rows
from trellis.imports.tasks import RUN_TASK
from trellis.metadata.compiled import ObjectSchema
from trellis.outbox.worker_nudges import nudge_worker
from trellis.state import get_state
from trellis.views.shell import Screen, plural_label, readable_object, screen

blueprint = Blueprint("import_screen", __name__, url_prefix="/o")


def may_import(current: Screen, obj: ObjectSchema) -> bool:
    """Whether the list screen offers "Import": the import right and create rights."""
    return current.actor.has_right("import") and current.access.rights.has(obj.api_name, "create")


def _service(current: Screen) -> ImportService:
    return ImportService(current.connection, current.actor, current.schema)


def _keys(current: Screen, obj: ObjectSchema) -> list[tuple[str, str]]:
    """What an upsert may match records by: the record id, or a unique field."""
    keys = [(RECORD_ID, "Record id")]
    hidden = current.access.unreadable_fields(obj)
    keys += [(f.api_name, label(f)) for f in obj.writes.unique if f.api_name not in hidden]
    return keys


def _upload_page(
    current: Screen, obj: ObjectSchema, error: TrellisError | None = None
) -> ResponseReturnValue:
    context = {
        "obj": obj,
        "plural": plural_label(obj),
        "keys": _keys(current, obj),
        "may_upsert": current.access.rights.has(obj.api_name, "edit"),
        "error": error,
        "form": request.form,
    }
    return render_template("records/import.html", **context), error.status if error else 200


@blueprint.get("/<api_name>/import")
def upload_page(api_name: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
        current.actor.require_right("import")
        return _upload_page(current, obj)


@blueprint.post("/<api_name>/import")
def upload(api_name: str) -> ResponseReturnValue:
    """Create the job and store its file; then the mapping step."""
    with screen() as current:
        obj = readable_object(current, api_name)
        upload = request.files.get("file")
        mode = request.form.get("mode", "insert")
        body = {"object": obj.api_name, "mode": mode, "key_field": request.form.get("key_field")}
        savepoint = current.connection.begin_nested()
        try:
            if upload is None or not upload.filename:
                raise TrellisError("Choose a CSV file.", status=422, fields={"file": "Required."})
            job = _service(current).create(body)
            _service(current).upload(job.id, upload.read(), upload.filename)
        except TrellisError as error:
            savepoint.rollback()  # no job without its file
            return _upload_page(current, obj, error)
        savepoint.commit()
    return redirect(url_for(".job_page", api_name=obj.api_name, job_id=job.id), 303)


def _mapping_rows(current: Screen, obj: ObjectSchema, job: Any) -> list[dict[str, Any]]:
    """Each column of the file: a sample value, its field and, for lookups, the match."""
    first = file_rows(job)[0].cells if job.total_rows else []
    entries = {entry["column"]: entry for entry in job.mapping or []}
    fields = [f for f in obj.fields.values() if writable(obj, f, current.access)]
    rows = []
    for index, column in enumerate(job.headers):
        entry = entries.get(column, {})
        field = obj.find(entry.get("field") or "") if entry.get("field") != RECORD_ID else None
        matches = []
        if field is not None and field.type.references_records:
            target = current.schema.object(field.definition["target"])
            matches = [(BY_NAME, "Name")] + [(u.api_name, label(u)) for u in target.writes.unique]
        rows.append(
            {
                "index": index,
                "column": column,
                "sample": first[index] if index < len(first) else "",
                "field": entry.get("field") or "",
                "match": entry.get("match") or BY_NAME,
                "matches": matches,
            }
        )
    return [{**row, "choices": [(f.api_name, label(f)) for f in fields]} for row in rows]


def _job_page(
    current: Screen,
    obj: ObjectSchema,
    job: Any,
    *,
    dry_run: dict[str, Any] | None = None,
    error: TrellisError | None = None,
) -> ResponseReturnValue:
    context = {
        "obj": obj,
        "plural": plural_label(obj),
        "job": job_json(job, obj.api_name),
        "percent": progress(job),
        "rows": _mapping_rows(current, obj, job) if job.state == "uploaded" else [],
        "key_label": dict(_keys(current, obj)).get(job.key_field or ""),
        "dry_run": dry_run,
        "error": error,
    }
    return render_template("records/import_job.html", **context), error.status if error else 200


def _job(current: Screen, api_name: str, job_id: str) -> tuple[ObjectSchema, Any]:
    obj = readable_object(current, api_name)
    job = _service(current).job(job_id)
    if job.object_id != obj.id:
        raise TrellisError("No such import.", status=404, code="unknown_import")
    return obj, job


@blueprint.get("/<api_name>/import/<job_id>")
def job_page(api_name: str, job_id: str) -> ResponseReturnValue:
    with screen() as current:
        obj, job = _job(current, api_name, job_id)
        return _job_page(current, obj, job)


def mapping_from_form(headers: list[str]) -> list[dict[str, Any]]:
    form = request.form
    return [
        {
            "column": column,
            "field": form.get(f"field-{index}") or None,
            "match": form.get(f"match-{index}") or None,
        }
        for index, column in enumerate(headers)
    ]


@blueprint.post("/<api_name>/import/<job_id>")
def job_action(api_name: str, job_id: str) -> ResponseReturnValue:
    """Set the mapping, then a dry run (shown on the page) or the start of the job."""
    with screen() as current:
        obj, job = _job(current, api_name, job_id)
        service = _service(current)
        try:
            job = service.set_mapping(job.id, mapping_from_form(job.headers))
            if request.form.get("action") != "start":
                result = service.dry_run(
                    job.id, get_state().config.import_batch_rows, get_state().database
                )
                return _job_page(current, obj, job, dry_run=result)
            job = service.start(job.id)
        except TrellisError as error:
            return _job_page(current, obj, service.job(job.id), error=error)
    nudge_worker(RUN_TASK, str(job.tenant_id), str(job.id))
    return redirect(url_for(".job_page", api_name=obj.api_name, job_id=job.id), 303)


@blueprint.get("/<api_name>/import/<job_id>/rejected.csv")
def rejected_rows(api_name: str, job_id: str) -> ResponseReturnValue:
    with screen(with_shell=False) as current:
        _, job = _job(current, api_name, job_id)
        text = _service(current).rejected_csv(job.id)
    name = re.sub(r"[^\w.-]+", "_", job.file_name or "rows.csv")
    disposition = f'attachment; filename="rejected-{name}"'
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": disposition})
