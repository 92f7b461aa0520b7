"""The OpenAPI description of ``/imports`` (:mod:`trellis.api.imports`)."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    API_NAME,
    INTEGER,
    MOMENT,
    OPTIONAL_MOMENT,
    OPTIONAL_TEXT,
    TEXT,
    UUID,
    WRITE,
    array,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.imports.csv_file import MAX_FILE_BYTES
from trellis.imports.service import SHOWN_ERRORS

IMPORTS_TAG = "Imports"
STATES = ["new", "uploaded", "queued", "running", "done", "failed"]
JOB = parameter("job_id", "path", UUID, "The import job.")


def openapi_schemas() -> dict[str, Any]:
    """``ImportJob``, ``ImportMapping``, ``ImportColumn`` and ``ImportDryRun``."""
    count = {"type": "integer", "minimum": 0}
    job = {
        "id": UUID,
        "object": API_NAME,
        "mode": {"enum": ["insert", "upsert"]},
        "key_field": {**OPTIONAL_TEXT, "description": "`id` or a unique field (upserts)."},
        "state": {"enum": STATES},
        "file_name": OPTIONAL_TEXT,
        "total_rows": count,
        "next_row": {**count, "description": "Rows handled so far: the job resumes here."},
        "created": count,
        "updated": count,
        "rejected": count,
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "mapped": {"type": "boolean"},
        "error": OPTIONAL_TEXT,
        "created_at": MOMENT,
        "updated_at": MOMENT,
        "finished_at": OPTIONAL_MOMENT,
    }
    column = {
        "column": {**TEXT, "description": "A column name of the file's header row."},
        "field": {
            **OPTIONAL_TEXT,
            "description": "The field it fills, `id` (the record id: the row updates that "
            "record), or null (left out).",
        },
        "match": {
            **OPTIONAL_TEXT,
            "description": "Lookups: `name` (the related record's name) or a unique field of "
            "the target.",
        },
    }
    result = {**job, "rejected_rows_url": TEXT}
    dry_run = {
        "rows": INTEGER,
        "would_create": INTEGER,
        "would_update": INTEGER,
        "rejected": INTEGER,
        "errors": array(
            shape({"row": INTEGER, "reason": TEXT}, ["row", "reason"]),
            description=f"The first {SHOWN_ERRORS} refused rows (1 = the first after the header).",
        ),
    }
    mapping = {
        "headers": array(TEXT),
        "mapping": array(ref("ImportColumn")),
        "suggested": array(ref("ImportColumn")),
    }
    return {
        "ImportJob": shape(job, job),
        "ImportResult": shape(result, result),
        "ImportColumn": shape(column, ["column", "field"]),
        "ImportMapping": shape(mapping, mapping),
        "ImportDryRun": shape(dry_run, dry_run),
    }


def _read(operation_id: str, summary: str, schema: str) -> dict[str, Any]:
    return operation(
        operation_id,
        summary,
        IMPORTS_TAG,
        200,
        ref(schema),
        errors=(400, 403, 404, 422),
        parameters=[JOB],
    )


def _step(operation_id: str, summary: str, status: int, schema: str, **extra: Any) -> dict:
    return operation(
        operation_id,
        summary,
        IMPORTS_TAG,
        status,
        ref(schema),
        errors=WRITE,
        parameters=[JOB],
        **extra,
    )


def openapi_paths() -> dict[str, dict[str, Any]]:
    """``/imports`` and the steps of one job."""
    created = shape(
        {"object": API_NAME, "mode": {"enum": ["insert", "upsert"]}, "key_field": TEXT},
        ["object"],
    )
    upload, rejected = _file_operations()
    mapping = shape({"mapping": array(ref("ImportColumn"))}, ["mapping"])
    create = operation(
        "createImport",
        "Create an import job (the import right, create and for upserts edit rights)",
        IMPORTS_TAG,
        201,
        ref("ImportJob"),
        errors=WRITE,
        body=created,
    )
    return {
        "/imports": {"post": create},
        "/imports/{job_id}": {
            "get": _read("getImport", "The job: state, counts, progress", "ImportJob")
        },
        "/imports/{job_id}/file": {"put": upload},
        "/imports/{job_id}/mapping": {
            "get": _read(
                "getImportMapping", "The columns, the mapping and the suggestion", "ImportMapping"
            ),
            "put": _step(
                "setImportMapping",
                "Set which column fills which field",
                200,
                "ImportJob",
                body=mapping,
            ),
        },
        "/imports/{job_id}/dry-run": {
            "post": _step(
                "dryRunImport",
                "Check every row as the import would, writing nothing",
                200,
                "ImportDryRun",
            )
        },
        "/imports/{job_id}/start": {
            "post": _step("startImport", "Start the background job", 202, "ImportJob")
        },
        "/imports/{job_id}/result": {
            "get": _read(
                "getImportResult", "The counts and the rejected rows' file", "ImportResult"
            )
        },
        "/imports/{job_id}/rejected": {"get": rejected},
    }


def _file_operations() -> tuple[dict[str, Any], dict[str, Any]]:
    """The two operations whose bodies are CSV: the upload and the rejected rows."""
    upload = operation(
        "uploadImportFile",
        f"Upload the CSV file (UTF-8, header row first, at most {MAX_FILE_BYTES:,} bytes)",
        IMPORTS_TAG,
        200,
        ref("ImportJob"),
        errors=(*WRITE, 413),
        parameters=[JOB, parameter("name", "query", TEXT, "The file's name, for the screens.")],
    )
    # The same bytes under either type: text/csv for people, application/octet-stream for
    # generated clients (most have no text/csv body, but all upload files).
    upload["requestBody"] = {
        "required": True,
        "content": {
            "text/csv": {"schema": TEXT},
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary", "contentMediaType": "text/csv"}
            },
        },
    }
    rejected = operation(
        "importRejectedRows",
        "The rejected rows as CSV: the file's columns, Row and Error",
        IMPORTS_TAG,
        200,
        errors=(400, 404),
        parameters=[JOB],
    )
    rejected["responses"]["200"]["content"] = {"text/csv": {"schema": TEXT}}
    return upload, rejected
