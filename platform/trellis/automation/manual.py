"""Manual automations: run on records a user chose (a button, an API call).

A request becomes one run per record, written in one transaction: either every record
named exists and each gets its run, or nothing is written. Each run's execution key is
(automation, request, record), so a client that repeats a request with the same
``Idempotency-Key`` gets the runs of the first one back instead of new ones.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.automation.tables import automation_runs
from trellis.automation.waits import still_holds
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.rules import RuleContext
from trellis.records.tables import records
from trellis.rule_engine import FormulaError

MAX_RECORDS = 200


def find_automation(schema: TenantSchema, api_name: str) -> tuple[ObjectSchema, dict[str, Any]]:
    for obj in schema.objects.values():
        for automation in obj.definition.get("automations", []):
            if automation["api_name"].lower() == api_name.lower():
                return obj, automation
    raise NotFound(f"No automation {api_name!r}.")


def record_ids(raw: Any) -> list[uuid.UUID]:
    """The body's ``record_ids``: 1–200 record ids, repeats dropped, or a clear 422."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_RECORDS:
        raise ValidationError(
            f"Name the records to run on: record_ids, a list of 1 to {MAX_RECORDS} record ids.",
            fields={"record_ids": [f"A list of 1 to {MAX_RECORDS} record ids."]},
        )
    found: list[uuid.UUID] = []
    errors: dict[str, list[str]] = {}
    for position, value in enumerate(raw):
        try:
            record_id = uuid.UUID(value) if isinstance(value, str) else None
        except ValueError:
            record_id = None
        if record_id is None:
            errors[f"record_ids.{position}"] = [f"Not a record id: {value!r}."]
        elif record_id not in found:
            found.append(record_id)
    if errors:
        raise ValidationError("Some record ids are malformed.", fields=errors)
    return found


def start_runs(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    api_name: str,
    chosen: list[uuid.UUID],
    request_key: str,
) -> list[dict[str, Any]]:
    """Write the runs of a manual automation on ``chosen`` records; a record that does not
    meet the automation's condition gets a ``skipped`` run saying so."""
    obj, automation = _runnable(schema, api_name)
    rows = _chosen_rows(connection, actor, obj, chosen)
    context = RuleContext(connection, actor, schema)
    name = automation["api_name"]
    keys = {record_id: f"manual:{name}:{request_key}:{record_id}" for record_id in chosen}
    for record_id in chosen:
        row = rows[record_id]
        status, error = _judge(
            context,
            obj,
            automation,
            context.view(obj, row.data, {"id": record_id, "owner_id": row.owner_id}),
        )
        connection.execute(
            pg_insert(automation_runs)
            .values(
                tenant_id=actor.tenant_id,
                automation=name,
                object_id=obj.id,
                record_id=record_id,
                trigger="manual",
                status=status,
                error=error,
                execution_key=keys[record_id],
            )
            .on_conflict_do_nothing(constraint="uq_automation_runs_execution_key")
        )
    return _written_runs(connection, chosen, keys)


def _runnable(schema: TenantSchema, api_name: str) -> tuple[ObjectSchema, dict[str, Any]]:
    """The automation ``api_name`` and its object, refused unless it is manual and active."""
    obj, automation = find_automation(schema, api_name)
    if automation["trigger"] != "manual":
        raise Conflict(
            f"Automation {automation['api_name']} runs on {automation['trigger']}, not on request."
        )
    if not automation.get("active", True):
        raise Conflict(f"Automation {automation['api_name']} is inactive.")
    return obj, automation


def _chosen_rows(
    connection: Connection, actor: Actor, obj: ObjectSchema, chosen: list[uuid.UUID]
) -> dict[uuid.UUID, sa.Row]:
    """The live ``chosen`` records by id; a 422 naming those that do not exist."""
    rows = {
        row.id: row
        for row in connection.execute(
            sa.select(records.c.id, records.c.data, records.c.owner_id).where(
                records.c.tenant_id == actor.tenant_id,
                records.c.object_id == obj.id,
                records.c.deleted_at.is_(None),
                records.c.id.in_(chosen),
            )
        )
    }
    missing = [str(record_id) for record_id in chosen if record_id not in rows]
    if missing:
        raise ValidationError(
            f"No {obj.api_name} record with these ids (or it was deleted).",
            fields={"record_ids": missing},
        )
    return rows


def _written_runs(
    connection: Connection, chosen: list[uuid.UUID], keys: dict[uuid.UUID, str]
) -> list[dict[str, Any]]:
    """The run of each chosen record, by its execution key, in the order chosen."""
    # Read back rather than RETURNING: a repeated request finds the first one's runs.
    runs = {
        row.execution_key: row
        for row in connection.execute(
            sa.select(
                automation_runs.c.id,
                automation_runs.c.status,
                automation_runs.c.error,
                automation_runs.c.execution_key,
            ).where(automation_runs.c.execution_key.in_(list(keys.values())))
        )
    }
    return [
        {
            "id": runs[keys[record_id]].id,
            "record_id": str(record_id),
            "status": runs[keys[record_id]].status,
            "error": runs[keys[record_id]].error,
        }
        for record_id in chosen
    ]


def _judge(
    context: RuleContext, obj: ObjectSchema, automation: dict[str, Any], view: Any
) -> tuple[str, str | None]:
    try:
        if still_holds(context, obj, automation, view):
            return "queued", None
    except FormulaError as error:
        return "skipped", f"The condition could not be evaluated: {error}"
    return "skipped", "The record does not meet the automation's condition."
