"""Actions that write records: through the records service, so validation, history, the
events outbox and the automation chain apply as for any other write."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from trellis.automation.actions import (
    CREATED,
    UPDATED,
    ActionCheck,
    ActionFailed,
    ActionStep,
    ActionType,
    Check,
    fail,
    lookup_to,
)
from trellis.errors import NotFound
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.tables import records

# One action updates at most this many related records; more is refused as a whole
# (nothing written), so a broad filter cannot turn one save into a mass update.
MAX_RELATED = 1000


class UpdateFields(ActionType):
    """Set fields of the triggering record."""

    name = "update_fields"

    def checks(self, check: ActionCheck, action: dict[str, Any]) -> Iterable[tuple[str, Check]]:
        if check.automation["trigger"] == "deleted":
            yield "", fail("A deleted record's fields cannot be updated.")
        yield from check.values(check.obj, action["values"])

    def writes(
        self, schema: TenantSchema, obj: ObjectSchema, action: dict[str, Any]
    ) -> list[tuple[str, str]]:
        return [(obj.api_name, UPDATED)]

    def perform(self, step: ActionStep, action: dict[str, Any]) -> None:
        values = step.field_values(action["values"])
        step.write(lambda: step.records(step.obj).update(step.run.record_id, values))


class CreateRecord(ActionType):
    """Create a record of any object, its values computed from the triggering record."""

    name = "create_record"

    def checks(self, check: ActionCheck, action: dict[str, Any]) -> Iterable[tuple[str, Check]]:
        target = check.schema.objects.get(action["object"].lower())
        if target is None:
            yield ".object", fail(f"No object {action['object']!r}.")
            return
        yield from check.values(target, action["values"])

    def writes(
        self, schema: TenantSchema, obj: ObjectSchema, action: dict[str, Any]
    ) -> list[tuple[str, str]]:
        return [(action["object"], CREATED)]

    def perform(self, step: ActionStep, action: dict[str, Any]) -> None:
        target = _object(step.schema, action["object"])
        values = step.field_values(action["values"])
        step.write(lambda: step.records(target).create(values))


class UpdateRelated(ActionType):
    """Update the records reached through a lookup, optionally filtered.

    ``children`` (the default): records of ``object`` whose lookup field ``lookup``
    points at the triggering record. ``parent``: the record the triggering record's own
    lookup field ``lookup`` points at. The filter and the value formulas are written over
    the related record; the triggering record is reached through the lookup
    (``Opportunity.Stage`` on a Task), as in any formula on that object.
    """

    name = "update_related"

    def checks(self, check: ActionCheck, action: dict[str, Any]) -> Iterable[tuple[str, Check]]:
        related = check.schema.objects.get(action["object"].lower())
        if related is None:
            yield ".object", fail(f"No object {action['object']!r}.")
            return
        if action.get("direction", "children") == "parent":
            holder, target = check.obj, related
        else:
            holder, target = related, check.obj
        if lookup_to(holder, action["lookup"], target.api_name) is None:
            yield (
                ".lookup",
                fail(f"Name a lookup field of {holder.api_name} that points at {target.api_name}."),
            )
            return
        if action.get("filter"):
            yield (
                ".filter",
                lambda: _filter_condition(
                    check.compiler, related, action["filter"], uuid.UUID(int=0)
                ),
            )
        yield from check.values(related, action["values"], on=related)

    def writes(
        self, schema: TenantSchema, obj: ObjectSchema, action: dict[str, Any]
    ) -> list[tuple[str, str]]:
        return [(action["object"], UPDATED)]

    def perform(self, step: ActionStep, action: dict[str, Any]) -> None:
        related = _object(step.schema, action["object"])
        tenant_id = step.actor.tenant_id
        scope = [
            records.c.tenant_id == tenant_id,
            records.c.object_id == related.id,
            records.c.deleted_at.is_(None),
        ]
        lookup = action["lookup"]
        if action.get("direction", "children") == "parent":
            field = lookup_to(step.obj, lookup, related.api_name)
            parent_id = step.record.data.get(field.api_name) if field else None
            if parent_id is None:
                return  # no parent: nothing to update
            scope.append(records.c.id == uuid.UUID(str(parent_id)))
        else:
            field = lookup_to(related, lookup, step.obj.api_name)
            if field is None:
                raise ActionFailed(
                    f"{related.api_name} has no lookup {lookup!r} to {step.obj.api_name}."
                )
            scope.append(records.c.data[field.api_name].astext == str(step.run.record_id))
        if action.get("filter"):
            scope.append(
                _filter_condition(step.schema.formulas, related, action["filter"], tenant_id)
            )
        # Locked in id order, as every writer of several records locks, to avoid deadlocks.
        rows = step.connection.execute(
            sa.select(
                records.c.id,
                records.c.data,
                records.c.owner_id,
                records.c.version,
                records.c.created_at,
                records.c.updated_at,
                records.c.created_by,
                records.c.updated_by,
            )
            .where(*scope)
            .order_by(records.c.id)
            .limit(MAX_RELATED + 1)
            .with_for_update(of=records),
            step.context.parameters,  # the filter reads $User as the action's formulas do
        ).all()
        if len(rows) > MAX_RELATED:
            raise ActionFailed(
                f"More than {MAX_RELATED} related {related.api_name} records "
                "match; narrow the action's filter."
            )
        service = step.records(related)
        for row in rows:
            view = step.context.view(
                related,
                row.data,
                {name: getattr(row, name) for name in row._fields if name != "data"},
            )
            values = step.field_values(action["values"], view)
            step.write(functools.partial(service.update, row.id, values))


def _filter_condition(
    compiler: Any, obj: ObjectSchema, source: str, tenant_id: uuid.UUID
) -> sa.ColumnElement:
    """The filter as SQL over ``obj``'s records, as ``where=`` filters run (a filter
    that cannot run in SQL is refused when the automation is saved)."""
    formula = compiler.compile(obj, source, expected_type="checkbox", allow_prior=False)
    return formula.to_sql_condition(compiler.sql(obj, tenant_id))


def _object(schema: TenantSchema, name: str) -> ObjectSchema:
    try:
        return schema.object(name)
    except NotFound as error:
        raise ActionFailed(error.message) from None
