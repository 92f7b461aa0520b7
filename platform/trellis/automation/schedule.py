"""Scheduled automations: cron schedules kept in PostgreSQL, and their ticks.

Each active scheduled automation has a row in ``automation_schedules`` holding its
next tick. The beat task (:func:`run_schedules`, every few seconds) first brings those
rows in step with the metadata (an automation added, changed, switched off or removed:
however the metadata changed, by the automation API, an object PUT, a package import
or a rollback), then claims the due rows (``FOR UPDATE SKIP LOCKED``) and, in the same
transaction, writes one run per record the filter selects and moves ``next_run_at`` to
the first tick after now. The filter is compiled to SQL exactly as ``where=`` is, so
the records never pass through Python. Every run carries the execution key
(automation, tick, record), unique: a tick is never run twice, and a tick missed while
everything was down fires once when the beat returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import zoneinfo
from typing import Any

import sqlalchemy as sa
from croniter import CroniterError, croniter
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from trellis.automation.tables import automation_runs, automation_schedules
from trellis.db import Database
from trellis.errors import TrellisError
from trellis.identity.tables import tenants
from trellis.metadata.compiled import MetadataCache, ObjectSchema, TenantSchema
from trellis.records.tables import records
from trellis.rule_engine import FormulaError

log = logging.getLogger(__name__)
DEFAULT_TIMEZONE = "UTC"
# croniter also reads these nicknames; anything else must be the classic five fields.
NICKNAMES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


class ScheduleError(ValueError):
    """A cron expression or time zone that cannot be used; the message says why."""


def time_zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_TIMEZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f'Unknown time zone {name!r}; use an IANA name such as "Europe/Paris" or "UTC".'
        ) from None


def next_tick(expression: str, timezone: str | None, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` that the schedule names, read in ``timezone``
    (so "0 9 * * *" is nine o'clock local time, summer and winter)."""
    zone = time_zone(timezone)
    if len(expression.split()) != 5 and expression.strip().lower() not in NICKNAMES:
        raise ScheduleError(
            "A schedule has five fields: minute, hour, day of month, month "
            'and day of week, e.g. "0 9 * * 1-5" (weekdays at 9:00).'
        )
    try:
        tick = croniter(expression, after.astimezone(zone)).get_next(dt.datetime)
    except CroniterError as error:  # bad field values, or a date that never comes (30 Feb)
        raise ScheduleError(f"Not a usable cron expression: {error}.") from None
    return tick.astimezone(dt.UTC)


def scheduled(
    schema: TenantSchema,
) -> dict[tuple[uuid.UUID, str], tuple[ObjectSchema, dict[str, Any]]]:
    """Active scheduled automations, by (object id, automation name)."""
    return {
        (obj.id, automation["api_name"]): (obj, automation)
        for obj in schema.objects.values()
        for automation in obj.definition.get("automations", [])
        if automation["trigger"] == "scheduled" and automation.get("active", True)
    }


def sync_schedules(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, now: dt.datetime
) -> None:
    """Make the schedule rows match the metadata; a new or changed schedule starts from now."""
    wanted = scheduled(schema)
    table = automation_schedules.c
    rows = {
        (row.object_id, row.automation): row
        for row in connection.execute(sa.select(automation_schedules))
    }
    for key, row in rows.items():
        if key in wanted and (row.schedule, row.timezone) == _timing(wanted[key][1]):
            continue
        connection.execute(
            automation_schedules.delete().where(
                table.object_id == key[0], table.automation == key[1]
            )
        )
    for key, (obj, automation) in wanted.items():
        stored = rows.get(key)
        if stored is not None and (stored.schedule, stored.timezone) == _timing(automation):
            continue
        expression, timezone = _timing(automation)
        try:
            tick = next_tick(expression, timezone, now)
        except ScheduleError:  # refused when saved; one stored before that never fires
            continue
        connection.execute(
            pg_insert(automation_schedules)
            .values(
                tenant_id=tenant_id,
                object_id=obj.id,
                automation=automation["api_name"],
                schedule=expression,
                timezone=timezone,
                next_run_at=tick,
            )
            .on_conflict_do_nothing()
        )


def fire_due(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, now: dt.datetime
) -> list[int]:
    """Write the runs of every due tick and advance the schedules; return the new run ids."""
    wanted = scheduled(schema)
    due = connection.execute(
        sa.select(automation_schedules)
        .where(automation_schedules.c.next_run_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    run_ids: list[int] = []
    for row in due:
        found = wanted.get((row.object_id, row.automation))
        if found is None:  # added by a concurrent sync of older metadata
            continue
        obj, automation = found
        try:
            with connection.begin_nested():
                created = _tick_runs(
                    connection, tenant_id, schema, obj, automation, row.next_run_at
                )
        except (TrellisError, FormulaError, sa.exc.DBAPIError):
            # The filter was checked when saved, so this is rare (a value the SQL cannot
            # cast, say); the schedule still moves on, or it would fail every few seconds.
            log.exception(
                "scheduled automation could not select its records",
                extra={"tenant_id": str(tenant_id), "automation": row.automation},
            )
            created = []
        run_ids += created
        connection.execute(
            automation_schedules.update()
            .where(
                automation_schedules.c.object_id == row.object_id,
                automation_schedules.c.automation == row.automation,
            )
            .values(
                next_run_at=next_tick(row.schedule, row.timezone, now),
                last_run_at=row.next_run_at,
                last_run_count=len(created),
            )
        )
    return run_ids


def _tick_runs(
    connection: Connection,
    tenant_id: uuid.UUID,
    schema: TenantSchema,
    obj: ObjectSchema,
    automation: dict[str, Any],
    tick: dt.datetime,
) -> list[int]:
    from trellis.records.filters import where_filter

    conditions = [
        records.c.tenant_id == tenant_id,
        records.c.object_id == obj.id,
        records.c.deleted_at.is_(None),
    ]
    if automation.get("filter"):
        conditions.append(
            where_filter(obj, schema, schema.formulas.sql(obj, tenant_id), automation["filter"])
        )
    name = automation["api_name"]
    moment = tick.astimezone(dt.UTC).isoformat()
    key = sa.literal(f"scheduled:{name}:{moment}:") + sa.cast(records.c.id, sa.Text)
    chosen = sa.select(
        sa.literal(tenant_id, sa.Uuid),
        sa.literal(name),
        sa.literal(obj.id, sa.Uuid),
        records.c.id,
        sa.literal("scheduled"),
        sa.literal("queued"),
        key,
    ).where(*conditions)
    columns = [
        "tenant_id",
        "automation",
        "object_id",
        "record_id",
        "trigger",
        "status",
        "execution_key",
    ]
    return list(
        connection.execute(
            pg_insert(automation_runs)
            .from_select(columns, chosen)
            .on_conflict_do_nothing(constraint="uq_automation_runs_execution_key")
            .returning(automation_runs.c.id)
        ).scalars()
    )


def _timing(automation: dict[str, Any]) -> tuple[str, str]:
    return automation.get("schedule", ""), automation.get("timezone") or DEFAULT_TIMEZONE


def run_schedules(database: Database, cache: MetadataCache) -> list[tuple[uuid.UUID, int]]:
    """For every tenant: sync the schedules, fire the due ticks; return (tenant, run id)."""
    with database.platform() as connection:
        tenant_ids = connection.execute(sa.select(tenants.c.id)).scalars().all()
    queued: list[tuple[uuid.UUID, int]] = []
    for tenant_id in tenant_ids:
        try:
            with database.tenant(tenant_id) as connection:
                now = connection.execute(sa.select(sa.func.now())).scalar_one()
                schema = cache.get(connection, tenant_id)
                sync_schedules(connection, tenant_id, schema, now)
                queued += [
                    (tenant_id, run_id) for run_id in fire_due(connection, tenant_id, schema, now)
                ]
        except Exception:
            log.exception("scheduled automations failed", extra={"tenant_id": str(tenant_id)})
    return queued
