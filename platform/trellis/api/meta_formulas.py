"""Trying a formula on a record: ``POST /api/v1/meta/formulas/evaluate``, for the formula
editor's "Try it" panel. The administrator's own access applies: the record, the fields
the formula reads and any record it reaches through a lookup are read through the
access gate, so trying a formula shows nothing its author could not open. Any right
whose Setup screens take a formula (FORMULA_RIGHTS) may try one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.api.context import metadata_service, tenant_transaction
from trellis.api.meta import formula_options
from trellis.api.request import json_body
from trellis.errors import BadRequest, Forbidden, NotFound
from trellis.metadata.access_documents import FORMULA_RIGHTS
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.formulas import UnknownPath, resolve_path
from trellis.records.rules import RecordView, RuleContext
from trellis.records.service import RecordService
from trellis.rule_engine import FormulaError


class GatedContext(RuleContext):
    """A rule context whose related records are those the actor may read: a lookup to a
    record they may not read reads as blank, as if it pointed nowhere."""

    def __init__(
        self, connection: Connection, actor: Actor, schema: TenantSchema, access: Access
    ) -> None:
        super().__init__(connection, actor, schema)
        self.access = access

    def related(self, obj: ObjectSchema, record_id: str) -> RecordView | None:
        service = RecordService(self.connection, self.actor, self.schema, obj, access=self.access)
        try:
            service.locate(record_id)
        except (NotFound, Forbidden):
            return None
        return super().related(obj, record_id)


def shown_value(value: Any) -> Any:
    """A formula's value as JSON: numbers as exact text ("1500.00"), dates and times in
    ISO 8601, text and checkboxes as they are, blank as null."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return value


def _require_readable_paths(
    schema: TenantSchema, obj: ObjectSchema, access: Access, references: frozenset[str]
) -> None:
    """Refuse a formula reading a field field-level security hides from the actor."""
    for path in sorted(references):
        try:
            steps = resolve_path(schema, obj, path)
        except UnknownPath:
            continue  # a system field or global: readable by all
        if not access.can_read_path(steps):
            raise Forbidden(
                f"You may not read {path}, which the formula uses.",
                fields={"expression": f"You may not read {path}."},
                code="unreadable_field",
            )


def evaluate_formula() -> ResponseReturnValue:
    """The formula's value on one record, or the error (where it is, as the check says)."""
    body = json_body()
    _, expression, options = formula_options(body)
    record_id = body.get("record_id")
    if not isinstance(record_id, str):
        raise BadRequest("Send the record_id to try it on.", fields={"record_id": "A record id."})
    with tenant_transaction() as (connection, actor):
        actor.require_any_right(FORMULA_RIGHTS)
        schema = metadata_service(connection, actor).schema()
        obj = schema.object(body["object"])
        access = Access.of(actor, schema)
        # The record itself, through the gate: one the actor may not read is a 404.
        RecordService(connection, actor, schema, obj, access=access).locate(record_id)
        context = GatedContext(connection, actor, schema, access)
        try:
            formula = schema.formulas.compile(obj, expression, **options)
            _require_readable_paths(schema, obj, access, formula.references)
            view = context.related(obj, record_id)
            if view is None:  # removed since it was located
                raise NotFound("No such record.", code="record_not_found")
            value = formula.evaluate(view, now=context.now, globals=context.globals)
        except FormulaError as error:
            return jsonify({"valid": False, "error": error.with_source(expression).to_dict()})
        except ValueError as error:  # an unsupported expected type
            raise BadRequest(str(error), fields={"return_type": str(error)}) from None
    return jsonify({"valid": True, "return_type": formula.return_type, "value": shown_value(value)})


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/meta/formulas/evaluate", view_func=evaluate_formula, methods=["POST"])
