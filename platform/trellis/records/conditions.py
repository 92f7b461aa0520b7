"""Conditional fields as a form shows them: which fields are visible, required and
read-only for the values a user has typed so far.

The records service enforces ``visible_when``, ``required_when`` and ``read_only_when``
when a record is saved (:func:`trellis.records.rules.enforce`). A form asks the same
formulas, through the same engine and over the same record (every stored field, those
field-level security hides from the user included, as the service sees them) so that it
can hide, mark and lock fields while the user types. The service stays the authority:
whatever a form shows, the save is checked again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.field_types import FieldValueError
from trellis.records.reads import select_record
from trellis.records.rules import RecordView, RuleContext, apply_default_formulas
from trellis.records.tables import records
from trellis.records.values import apply_defaults, is_blank
from trellis.rule_engine import FormulaError


@dataclasses.dataclass(frozen=True)
class FieldConditions:
    """What a field's conditions say for the record at hand (True where it has none)."""

    visible: bool = True
    required: bool = False
    read_only: bool = False


def evaluate_conditions(
    context: RuleContext,
    obj: ObjectSchema,
    data: Mapping[str, Any],
    prior: Mapping[str, Any] | None,
    system: Mapping[str, Any],
) -> dict[str, FieldConditions]:
    """The conditions of each conditional field of ``obj`` for the record ``data`` (stored
    values); ``prior`` is the record as stored when it is being edited (None for a new
    one). As on save, ``read_only_when`` judges the stored record: what a user types
    cannot unlock a field."""
    view = context.view(obj, data, system)
    before = None if prior is None else context.view(obj, prior, system)
    states = {}
    for field in obj.writes.conditional:
        definition = field.definition
        states[field.api_name] = FieldConditions(
            visible=_holds(context, obj, definition.get("visible_when"), view, True),
            required=_holds(context, obj, definition.get("required_when"), view, False),
            read_only=_holds(context, obj, definition.get("read_only_when"), before or view, False),
        )
    return states


def _holds(
    context: RuleContext, obj: ObjectSchema, source: str | None, view: RecordView, default: bool
) -> bool:
    if not source:
        return default
    try:
        return context.evaluate(obj, source, view, expected_type="checkbox") is True
    except FormulaError:
        # The save reports the condition's error on the field; until then it shows as
        # if it had no condition.
        return default


def typed_values(obj: ObjectSchema, typed: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values in their stored form; a value that does not fit its field (yet) counts
    as blank, and computed fields as absent."""
    values: dict[str, Any] = {}
    for name, raw in typed.items():
        field = obj.find(name)
        if field is None or field.type.computed:
            continue
        try:
            values[field.api_name] = field.normalize(raw)
        except FieldValueError:
            values[field.api_name] = None
    return values


def form_conditions(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    obj: ObjectSchema,
    typed: Mapping[str, Any],
    record_id: uuid.UUID | str | None = None,
) -> dict[str, FieldConditions]:
    """The conditions of the fields the user may read, for a form of a new record
    (``record_id`` None: defaults filled in as a save would) or of the record
    ``record_id`` (read through the gate: not found when unreadable), with the values
    ``typed`` over it."""
    context = RuleContext(connection, access.actor, schema)
    values = typed_values(obj, typed)
    prior: dict[str, Any] | None = None
    if record_id is None:
        data = dict(values)
        apply_defaults(obj, data)
        # The save reports a default that cannot be computed.
        with contextlib.suppress(ValidationError):
            apply_default_formulas(context, obj, data)
        user = access.actor.user_id
        system: dict[str, Any] = {"owner_id": user, "created_by": user, "updated_by": user}
    else:
        row = select_record(
            connection,
            access.actor.tenant_id,
            schema,
            obj,
            record_id,
            "conditions",
            lambda: (records.c.id, records.c.data, records.c.owner_id, records.c.version),
            access,
        )
        prior = dict(row.data)
        data = {**prior, **values}
        system = {"id": row.id, "owner_id": row.owner_id, "version": row.version}
    data = {name: value for name, value in data.items() if not is_blank(value)}
    states = evaluate_conditions(context, obj, data, prior, system)
    hidden = access.unreadable_fields(obj)
    return {name: state for name, state in states.items() if name not in hidden}
