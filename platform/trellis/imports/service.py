"""The import service: what the API (``/api/v1/imports``) and the import screen both
call, so the two channels check the same things. Creating a job, uploading its file,
suggesting and setting the column mapping, a dry run, starting the background job, and
its result with the file of rejected rows.

Access: the ``import`` system right, and the right to create records of the object (an
upsert, or a file with record ids, also to edit them); the records service checks each
row again (sharing, field-level security) as it writes it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.db import Database
from trellis.errors import Conflict, ValidationError
from trellis.imports.batches import Outcome, Plan, Repeats, write_batch
from trellis.imports.cells import Row
from trellis.imports.csv_file import parse_csv, write_csv
from trellis.imports.jobs import load_job, update_job
from trellis.imports.mapping import (
    RECORD_ID,
    Column,
    check_key,
    check_mapping,
    key_is_mapped,
    suggest_mapping,
)
from trellis.imports.tables import import_jobs, import_rejections
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.service import RecordService

MODES = ("insert", "upsert")
#: A dry run answers with at most this many refused rows (and counts them all).
SHOWN_ERRORS = 100


class ImportService:
    def __init__(self, connection: Connection, actor: Actor, schema: TenantSchema) -> None:
        self.connection = connection
        self.actor = actor
        self.schema = schema
        self.access = Access.of(actor, schema)

    def object_of(self, job: sa.Row) -> ObjectSchema:
        return self.schema.by_id(job.object_id)

    def require(self, obj: ObjectSchema, mode: str, updates: bool = False) -> None:
        """The import right, and the object rights the mode needs."""
        self.actor.require_right("import")
        self.access.rights.require(obj.api_name, "create")
        if mode == "upsert" or updates:
            self.access.rights.require(obj.api_name, "edit")

    def job(self, job_id: Any, *, for_update: bool = False) -> sa.Row:
        self.actor.require_right("import")
        return load_job(self.connection, self.actor, job_id, for_update=for_update)

    # -- steps ---------------------------------------------------------------------------
    def create(self, body: Any) -> sa.Row:
        """A new job for ``{"object", "mode", "key_field"}``; its file comes next."""
        if not isinstance(body, dict):
            raise ValidationError("The body is a JSON object.", fields={"": "An object."})
        self.actor.require_right("import")
        obj = self.schema.object(str(body.get("object", "")))
        mode = body.get("mode", "insert")
        if mode not in MODES:
            raise ValidationError("mode is insert or upsert.", fields={"mode": "insert or upsert"})
        key_field = check_key(obj, mode, body.get("key_field"))
        self.require(obj, mode)
        return self.connection.execute(
            import_jobs.insert()
            .values(
                tenant_id=self.actor.tenant_id,
                object_id=obj.id,
                created_by=self.actor.user_id,
                mode=mode,
                key_field=key_field,
            )
            .returning(import_jobs)
        ).one()

    def upload(self, job_id: Any, data: bytes, file_name: str | None) -> sa.Row:
        """Store the job's file (413/422 for one that is too large or not CSV)."""
        job = self._editable(job_id)
        parsed = parse_csv(data)
        if not parsed.rows:
            raise ValidationError(
                "The file has a header row but no data rows.",
                code="bad_file",
                fields={"file": "No rows."},
            )
        mapping = suggest_mapping(self.object_of(job), parsed.headers, self.access)
        update_job(
            self.connection,
            job,
            file=data,
            file_name=(file_name or "import.csv")[:200],
            headers=parsed.headers,
            total_rows=len(parsed.rows),
            mapping=mapping,
            state="uploaded",
        )
        return self.job(job.id)

    def mapping(self, job_id: Any) -> dict[str, Any]:
        """The file's columns and their mapping (the suggestion until one is set)."""
        job = self._uploaded(self.job(job_id))
        obj = self.object_of(job)
        return {
            "headers": job.headers,
            "mapping": job.mapping,
            "suggested": suggest_mapping(obj, job.headers, self.access),
        }

    def set_mapping(self, job_id: Any, mapping: Any) -> sa.Row:
        job = self._uploaded(self._editable(job_id))
        obj = self.object_of(job)
        columns = check_mapping(self.schema, obj, self.access, job.headers, mapping)
        self._check_key(job, columns)
        entries = [
            {
                "column": column.name,
                "field": column.field.api_name if column.field else RECORD_ID,
                "match": column.match,
            }
            for column in columns
        ]
        update_job(self.connection, job, mapping=entries)
        return self.job(job.id)

    def dry_run(self, job_id: Any, batch_rows: int, database: Database) -> dict[str, Any]:
        """What the import would do, row by row, with every check of a real write, each
        batch in a transaction of its own that is rolled back: nothing is written, and
        no transaction holds the locks of a whole file's unique values. Values the file
        repeats across batches are caught by :func:`reject_repeats`."""
        job = self._uploaded(self.job(job_id))
        plan = self.plan(job)
        total, seen = Outcome(), Repeats()
        rows = file_rows(job)
        for start in range(0, len(rows), batch_rows):
            connection = database.connect(self.actor.tenant_id)
            try:
                service = ImportService(connection, self.actor, self.schema)
                batch = rows[start : start + batch_rows]
                total.add(write_batch(connection, service.records(job), plan, batch, seen))
            finally:
                connection.rollback()
                connection.close()
        return {
            "rows": job.total_rows,
            "would_create": total.created,
            "would_update": total.updated,
            "rejected": len(total.rejected),
            "errors": [
                {"row": row.number, "reason": why} for row, why in total.rejected[:SHOWN_ERRORS]
            ],
        }

    def start(self, job_id: Any) -> sa.Row:
        """Queue the job (the caller nudges a worker once this commits)."""
        job = self._uploaded(self._editable(job_id))
        self.plan(job)
        update_job(self.connection, job, state="queued")
        return self.job(job.id)

    # -- result --------------------------------------------------------------------------
    def rejected_csv(self, job_id: Any) -> str:
        """The rejected rows as CSV: the file's columns, the row's number and the reason."""
        job = self.job(job_id)
        rejections = self.connection.execute(
            sa.select(
                import_rejections.c.row_number,
                import_rejections.c.cells,
                import_rejections.c.reason,
            )
            .where(
                import_rejections.c.tenant_id == job.tenant_id,
                import_rejections.c.job_id == job.id,
            )
            .order_by(import_rejections.c.row_number)
        )
        rows = [[*cells, str(number), reason] for number, cells, reason in rejections]
        return write_csv([*(job.headers or []), "Row", "Error"], rows)

    # -- shared --------------------------------------------------------------------------
    def plan(self, job: sa.Row) -> Plan:
        """The checked mapping of ``job`` (checked again: fields and rights may have
        changed since it was set), with the rights its rows need."""
        obj = self.object_of(job)
        columns = check_mapping(self.schema, obj, self.access, job.headers, job.mapping)
        self._check_key(job, columns)
        self.require(obj, job.mode, updates=any(column.field is None for column in columns))
        return Plan(columns, len(job.headers), job.key_field)

    def records(self, job: sa.Row) -> RecordService:
        return RecordService(
            self.connection, self.actor, self.schema, self.object_of(job), access=self.access
        )

    def _check_key(self, job: sa.Row, columns: list[Column]) -> None:
        if not key_is_mapped(columns, job.key_field):
            raise ValidationError(
                f"An upsert by {job.key_field} needs a column mapped to it.",
                code="bad_mapping",
                fields={"mapping": f"Map a column to {job.key_field}."},
            )

    def _editable(self, job_id: Any) -> sa.Row:
        job = self.job(job_id, for_update=True)
        if job.state not in {"new", "uploaded"}:
            raise Conflict(
                f"The import is {job.state}: it can no longer change.", code="import_started"
            )
        return job

    @staticmethod
    def _uploaded(job: sa.Row) -> sa.Row:
        if job.file is None:
            raise ValidationError(
                "Upload the file first.", code="no_file", fields={"file": "Required."}
            )
        return job


def file_rows(job: sa.Row) -> list[Row]:
    """The job's data rows, numbered from 1."""
    return [Row(number, cells) for number, cells in enumerate(parse_csv(job.file).rows, start=1)]


def store_outcome(connection: Connection, job: sa.Row, outcome: Outcome, rows: int) -> None:
    """Record a committed batch: its rejected rows, the counts and the resume point."""
    if outcome.rejected:
        connection.execute(
            sa.dialects.postgresql.insert(import_rejections)
            .values(
                [
                    {
                        "tenant_id": job.tenant_id,
                        "job_id": job.id,
                        "row_number": row.number,
                        "cells": row.cells,
                        "reason": why,
                    }
                    for row, why in outcome.rejected
                ]
            )
            .on_conflict_do_nothing()
        )
    update_job(
        connection,
        job,
        next_row=import_jobs.c.next_row + rows,
        created=import_jobs.c.created + outcome.created,
        updated=import_jobs.c.updated + outcome.updated,
        rejected=import_jobs.c.rejected + len(outcome.rejected),
    )
