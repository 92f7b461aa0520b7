"""The metadata API under ``/api/v1/meta``: objects, fields, revisions, rollback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.api.context import flag, metadata_service, schedule_index_build, tenant_transaction
from trellis.api.request import json_body
from trellis.errors import BadRequest
from trellis.metadata.access_documents import FORMULA_RIGHTS
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.indexes import index_status
from trellis.metadata.secrets import redact_changes, redact_definition
from trellis.records.filters import check_readable_parameters
from trellis.records.parameters import whole_number
from trellis.rule_engine import FormulaError
from trellis.state import get_state


def _actions() -> Any:
    """The action registry, which knows which action properties are secret."""
    return get_state().metadata_cache.actions


def object_json(connection: Any, obj: ObjectSchema) -> dict[str, Any]:
    """An object as the API shows it: index states on its fields, action secrets masked,
    and always its ``name_field`` (``id`` for an object with no text or auto-number field
    to name its records by)."""
    status = index_status(connection, obj.id)
    fields = [
        {**field, "index": status.get(field["api_name"])} if field["api_name"] in status else field
        for field in obj.definition["fields"]
    ]
    shown = redact_definition(_actions(), obj.definition)
    return {**shown, "name_field": obj.name_field, "fields": fields, "id": str(obj.id)}


def _built(actor: Actor, obj: ObjectSchema) -> dict[str, Any]:
    """After a change to ``obj`` committed: build the indexes it planned (at once on a
    small table) and show the object with the index states that resulted."""
    schedule_index_build(actor.tenant_id)
    with tenant_transaction() as (connection, _):
        return object_json(connection, obj)


def list_objects() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        schema = metadata_service(connection, actor).schema()
        objects = sorted(schema.objects.values(), key=lambda obj: obj.api_name.lower())
        return jsonify(
            {"data": [object_json(connection, obj) for obj in objects], "revision": schema.revision}
        )


def create_object() -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        obj = metadata_service(connection, actor).create_object(
            body, message=request.args.get("message", "")
        )
    return jsonify(_built(actor, obj)), 201


def get_object(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        obj = metadata_service(connection, actor).get_object(api_name)
        return jsonify(object_json(connection, obj))


def replace_object(api_name: str) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        obj = metadata_service(connection, actor).replace_object(
            api_name, body, force=flag("force"), message=request.args.get("message", "")
        )
    return jsonify(_built(actor, obj))


def delete_object(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        metadata_service(connection, actor).delete_object(api_name, force=flag("force"))
    schedule_index_build(actor.tenant_id)
    return "", 204


def list_fields(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        obj = metadata_service(connection, actor).get_object(api_name)
        return jsonify({"data": object_json(connection, obj)["fields"]})


def add_field(api_name: str) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        obj = metadata_service(connection, actor).add_field(api_name, body)
    result = next(f for f in _built(actor, obj)["fields"] if f["api_name"] == body.get("api_name"))
    return jsonify(result), 201


def get_field(api_name: str, field_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        obj = metadata_service(connection, actor).get_object(api_name)
        name = obj.field(field_name).api_name
        return jsonify(
            next(f for f in object_json(connection, obj)["fields"] if f["api_name"] == name)
        )


def change_field(api_name: str, field_name: str) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor)
        name = service.get_object(api_name).definition_field(field_name)["api_name"]
        obj = service.change_field(api_name, name, body, force=flag("force"))
    return jsonify(next(f for f in _built(actor, obj)["fields"] if f["api_name"] == name))


def delete_field(api_name: str, field_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor)
        name = service.get_object(api_name).field(field_name).api_name
        service.delete_field(api_name, name)
    schedule_index_build(actor.tenant_id)
    return "", 204


def purge_field(api_name: str, field_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        purged = metadata_service(connection, actor).purge_field(api_name, field_name)
    return jsonify({"purged_records": purged})


def revision_json(row: Any, detail: bool = False) -> dict[str, Any]:
    """A revision as the API shows it: action secrets masked in its diff and changes."""
    changes = redact_changes(_actions(), row.changes)
    result = {
        "revision": row.revision,
        "author_id": str(row.author_id) if row.author_id else None,
        "created_at": row.created_at.isoformat(),
        "message": row.message,
        "objects": [change["object"] for change in changes],
        "diff": [
            {"object": change["object"], **item} for change in changes for item in change["diff"]
        ],
    }
    if detail:
        result["changes"] = changes
    return result


def list_revisions() -> ResponseReturnValue:
    before = request.args.get("before")
    with tenant_transaction() as (connection, actor):
        rows = metadata_service(connection, actor).revisions(
            # Past the newest revision means all of them: the service clamps it.
            before=whole_number(before, "before", high=None) if before else None
        )
        return jsonify({"data": [revision_json(row) for row in rows]})


def get_revision(number: int) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        return jsonify(revision_json(metadata_service(connection, actor).revision(number), True))


def rollback(number: int) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        new_revision = metadata_service(connection, actor).rollback(number)
    schedule_index_build(actor.tenant_id)
    return jsonify({"revision": new_revision, "rolled_back_to": number})


PURPOSES: dict[str, dict[str, Any]] = {
    "validation_rule": {"expected_type": "checkbox"},
    "condition": {"expected_type": "checkbox"},
    "filter": {"expected_type": "checkbox", "allow_prior": False},
    "formula_field": {"allow_prior": False},
    "default": {"allow_prior": False},
    # A value an automation's action writes: any type; it may read the prior values.
    "action_value": {},
}


def formula_options(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The purpose, expression and compile options a formula request asks for (the check's
    and the evaluation's), or a 400 saying what is wrong."""
    purpose, expression = body.get("purpose", "validation_rule"), body.get("expression")
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise BadRequest("Unknown purpose.", fields={"purpose": f"One of {', '.join(PURPOSES)}."})
    if "source" in body:  # its earlier name: say so rather than "expression: Text."
        raise BadRequest(
            "Send the formula as expression, as formula fields do.",
            fields={"source": "Renamed to expression."},
        )
    if not isinstance(expression, str) or not isinstance(body.get("object"), str):
        raise BadRequest(
            "Send the object's api_name and the formula expression.",
            fields={"expression": "Text.", "object": "An object api_name."},
        )
    if not isinstance(body.get("return_type", ""), (str, type(None))):
        raise BadRequest("return_type names a type.", fields={"return_type": "A type name."})
    options = dict(PURPOSES[purpose])
    if body.get("return_type") is not None:
        options["expected_type"] = body["return_type"]
    return purpose, expression, options


def check_formula() -> ResponseReturnValue:
    """Live feedback for formula editors: the inferred type, or the error with its position.

    Setup's formulas are checked by those whose screens take one (FORMULA_RIGHTS). A
    ``filter`` is what any reader may send as a list's ``where=``, so anyone may check
    one, with field-level security as the list applies it: a field hidden from them is
    unknown, and never suggested."""
    body = json_body()
    purpose, expression, options = formula_options(body)
    with tenant_transaction() as (connection, actor):
        schema = metadata_service(connection, actor).schema()
        obj = schema.object(body["object"])
        if not any(actor.has_right(right) for right in FORMULA_RIGHTS):
            if purpose != "filter":
                actor.require_any_right(FORMULA_RIGHTS)  # refuses
            access = Access.of(actor, schema)
            check_readable_parameters(obj, schema, access, {"where": [expression]})
        try:
            formula = schema.formulas.compile(obj, expression, **options)
            if purpose == "filter":
                formula.to_sql(schema.formulas.sql(obj, actor.tenant_id))
        except FormulaError as error:
            return jsonify({"valid": False, "error": error.to_dict()})
        except ValueError as error:  # an unsupported expected type
            raise BadRequest(str(error), fields={"return_type": str(error)}) from None
    return jsonify(
        {
            "valid": True,
            "return_type": formula.return_type,
            "references": sorted(formula.references),
        }
    )


def field_types() -> ResponseReturnValue:
    with tenant_transaction():
        registry = get_state().field_types
        return jsonify(
            {
                "data": [
                    {
                        "name": t.name,
                        "properties": t.properties,
                        "required_properties": list(t.required_properties),
                        "operators": list(t.operators),
                        "sortable": t.sortable,
                        "computed": t.computed,
                    }
                    for t in registry.all()
                ]
            }
        )


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/meta/objects", view_func=list_objects, methods=["GET"])
    rule("/meta/objects", view_func=create_object, methods=["POST"])
    rule("/meta/objects/<api_name>", view_func=get_object, methods=["GET"])
    rule("/meta/objects/<api_name>", view_func=replace_object, methods=["PUT"])
    rule("/meta/objects/<api_name>", view_func=delete_object, methods=["DELETE"])
    rule("/meta/objects/<api_name>/fields", view_func=list_fields, methods=["GET"])
    rule("/meta/objects/<api_name>/fields", view_func=add_field, methods=["POST"])
    rule("/meta/objects/<api_name>/fields/<field_name>", view_func=get_field, methods=["GET"])
    rule("/meta/objects/<api_name>/fields/<field_name>", view_func=change_field, methods=["PATCH"])
    rule("/meta/objects/<api_name>/fields/<field_name>", view_func=delete_field, methods=["DELETE"])
    rule(
        "/meta/objects/<api_name>/fields/<field_name>/purge",
        view_func=purge_field,
        methods=["POST"],
    )
    rule("/meta/revisions", view_func=list_revisions, methods=["GET"])
    rule("/meta/revisions/<row_id:number>", view_func=get_revision, methods=["GET"])
    rule("/meta/revisions/<row_id:number>/rollback", view_func=rollback, methods=["POST"])
    rule("/meta/field-types", view_func=field_types, methods=["GET"])
    rule("/meta/formulas/check", view_func=check_formula, methods=["POST"])
