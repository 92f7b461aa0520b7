"""``/api/v1/imports``: CSV import jobs (trellis.imports). Create a job for an object and
a mode, upload the file as the request body, read the suggested mapping and set one, run
a dry run, start the background job, and follow its progress to the result and the file
of rejected rows. The import screen calls the same service.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.errors import UnsupportedMediaType
from trellis.imports.jobs import job_json
from trellis.imports.service import ImportService
from trellis.imports.tasks import RUN_TASK
from trellis.outbox.worker_nudges import nudge_worker
from trellis.state import get_state

CSV_TYPES = frozenset({"text/csv", "text/plain", "application/octet-stream"})


@contextlib.contextmanager
def _service() -> Iterator[ImportService]:
    with tenant_transaction() as (connection, actor):
        schema = get_state().metadata_cache.get(connection, actor.tenant_id)
        yield ImportService(connection, actor, schema)


def _job(service: ImportService, job: Any, status: int = 200) -> ResponseReturnValue:
    return jsonify(job_json(job, service.object_of(job).api_name)), status


def create_import() -> ResponseReturnValue:
    """Create an import job for ``object`` (mode insert or upsert on ``key_field``)."""
    body = json_body()
    with _service() as service:
        job = service.create(body)
        return _job(service, job, 201)


def get_import(job_id: str) -> ResponseReturnValue:
    """The job: its state, counts and progress."""
    with _service() as service:
        return _job(service, service.job(job_id))


def upload_file(job_id: str) -> ResponseReturnValue:
    """Upload the CSV file as the request body; the mapping is suggested from its header."""
    if request.mimetype not in CSV_TYPES:
        raise UnsupportedMediaType("Send the file as the body, with 'Content-Type: text/csv'.")
    data = request.get_data(cache=False)  # MAX_CONTENT_LENGTH bounds what is read
    with _service() as service:
        return _job(service, service.upload(job_id, data, request.args.get("name")))


def get_mapping(job_id: str) -> ResponseReturnValue:
    """The file's columns, the mapping set (the suggestion until one is set) and the
    suggestion."""
    with _service() as service:
        return jsonify(service.mapping(job_id))


def set_mapping(job_id: str) -> ResponseReturnValue:
    """Set which column fills which field."""
    body = json_body()
    with _service() as service:
        return _job(service, service.set_mapping(job_id, body.get("mapping")))


def dry_run(job_id: str) -> ResponseReturnValue:
    """Check every row as the import would write it, writing nothing."""
    with _service() as service:
        return jsonify(
            service.dry_run(job_id, get_state().config.import_batch_rows, get_state().database)
        )


def start_import(job_id: str) -> ResponseReturnValue:
    """Start the background job; follow it with GET /imports/{job_id}."""
    with _service() as service:
        job = service.start(job_id)
        answer = _job(service, job, 202)
    nudge_worker(RUN_TASK, str(job.tenant_id), str(job.id))  # committed: a worker may start
    return answer


def import_result(job_id: str) -> ResponseReturnValue:
    """The job's counts, and where to download its rejected rows."""
    with _service() as service:
        job = service.job(job_id)
        shown = job_json(job, service.object_of(job).api_name)
    return jsonify({**shown, "rejected_rows_url": f"/api/v1/imports/{job_id}/rejected"})


def rejected_rows(job_id: str) -> ResponseReturnValue:
    """The rejected rows as CSV: the file's columns, the row's number and the reason."""
    with _service() as service:
        text = service.rejected_csv(job_id)
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="rejected-{job_id}.csv"'},
    )


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/imports", view_func=create_import, methods=["POST"])
    rule("/imports/<job_id>", view_func=get_import, methods=["GET"])
    rule("/imports/<job_id>/file", view_func=upload_file, methods=["PUT"])
    rule("/imports/<job_id>/mapping", view_func=get_mapping, methods=["GET"])
    rule("/imports/<job_id>/mapping", view_func=set_mapping, methods=["PUT"])
    rule("/imports/<job_id>/dry-run", view_func=dry_run, methods=["POST"])
    rule("/imports/<job_id>/start", view_func=start_import, methods=["POST"])
    rule("/imports/<job_id>/result", view_func=import_result, methods=["GET"])
    rule("/imports/<job_id>/rejected", view_func=rejected_rows, methods=["GET"])
