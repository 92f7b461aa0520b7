"""The generated records API: ``/api/v1/objects/<api_name>/records`` for every object."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from trellis.api.context import tenant_transaction
from trellis.api.idempotency import idempotent
from trellis.api.request import json_body
from trellis.errors import BadRequest, NotFound, TrellisError, ValidationError
from trellis.records.batch import audit_deleted, in_savepoint
from trellis.records.filters import Condition
from trellis.records.history import history_page
from trellis.records.parameters import whole_number
from trellis.records.projection import parse_projection
from trellis.records.query import list_page, parse_list_request
from trellis.records.serialize import SavedRecord
from trellis.records.service import RecordService
from trellis.records.tombstones import tombstone_page
from trellis.records.upserts import external_id_field, parse_external_value, upsert, upsert_item
from trellis.state import get_state

MAX_BULK = 200
OPERATIONS = ("create", "update", "upsert", "delete")
# A compressed answer's ETag carries its coding ("3:gzip", trellis.compression).
ETAG = re.compile(r'^(?:W/)?"?(\d{1,10})(?::[a-z]+)?"?$')


def _service(connection: Any, actor: Any, api_name: str) -> RecordService:
    schema = get_state().metadata_cache.get(connection, actor.tenant_id)
    return RecordService(connection, actor, schema, schema.object(api_name))


def _json(text: str, status: int = 200, version: int | None = None) -> Response:
    response = Response(text, status=status, mimetype="application/json")
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return response


def _record_response(record: SavedRecord, status: int = 200, obj: str | None = None) -> Response:
    """A record's answer; a created one's (201) says where it lives (``Location``)."""
    response = _json(record.text, status, version=record["version"])
    if obj is not None:
        response.headers["Location"] = url_for(
            "api.get_record", api_name=obj, record_id=record["id"]
        )
    return response


def expected_version() -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = ETAG.match(header.strip())
    if match is None:
        raise BadRequest(
            'If-Match takes the record\'s ETag, e.g. "3".', fields={"If-Match": "Not an ETag."}
        )
    return int(match.group(1))


def list_records(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        query = parse_list_request(
            service.obj, service.schema, service.access, request.args.to_dict(flat=False)
        )
        return _json(list_page(connection, service.access, service.schema, service.obj, query))


def list_tombstones(api_name: str) -> ResponseReturnValue:
    """The records deleted since ``since``: what an incremental sync removes."""
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        return _json(tombstone_page(connection, service.access, service.obj, request.args))


@idempotent
def create_record(api_name: str) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        record = service.create(body)
    return _record_response(record, 201, service.obj.api_name)


def get_record(api_name: str, record_id: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        projection = parse_projection(
            service.obj, service.schema, service.access, request.args.getlist("fields")
        )
        text, version = service.get_json(record_id, projection)
    # The ETag is the record's version: it does not change when a related record shown
    # in an expanded lookup does, so such a response is never answered "not modified".
    expands = projection is not None and bool(projection.expanded)
    unchanged = ETAG.match(request.headers.get("If-None-Match", "").strip())
    if unchanged is not None and int(unchanged.group(1)) == version and not expands:
        return Response(status=304, headers={"ETag": f'"{version}"'})
    return _json(text, version=version)


@idempotent
def update_record(api_name: str, record_id: str) -> ResponseReturnValue:
    body = json_body()
    version = expected_version()
    with tenant_transaction() as (connection, actor):
        record = _service(connection, actor, api_name).update(
            record_id, body, expected_version=version
        )
    return _record_response(record)


@idempotent
def upsert_record(api_name: str, field_name: str, value: str) -> ResponseReturnValue:
    """Create or update the record whose external id ``field_name`` is ``value``: 201
    (with its Location) when created, 200 when updated."""
    body = json_body()
    version = expected_version()
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        field = external_id_field(service.obj, field_name)
        result = upsert(
            service, field, parse_external_value(field, value), body, expected_version=version
        )
    if result.created:
        return _record_response(result.record, 201, service.obj.api_name)
    return _record_response(result.record)


def delete_record(api_name: str, record_id: str) -> ResponseReturnValue:
    version = expected_version()
    with tenant_transaction() as (connection, actor):
        _service(connection, actor, api_name).delete(record_id, expected_version=version)
    return "", 204


@idempotent
def restore_record(api_name: str, record_id: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        record = _service(connection, actor, api_name).restore(record_id)
    return _record_response(record)


def record_history_view(api_name: str, record_id: str) -> ResponseReturnValue:
    before = request.args.get("cursor")
    before_id = None if before is None else whole_number(before, "cursor")
    with tenant_transaction() as (connection, actor):
        entries, next_cursor = history_page(
            _service(connection, actor, api_name), record_id, before_id
        )
    return jsonify(
        {
            "data": [
                {
                    "id": entry.id,
                    "action": entry.action,
                    "changes": entry.changes,
                    "actor_id": str(entry.actor_id) if entry.actor_id else None,
                    "created_at": entry.created_at.isoformat(),
                }
                for entry in entries
            ],
            "next_cursor": str(next_cursor) if next_cursor is not None else None,
        }
    )


def related_records(api_name: str, record_id: str, relation: str) -> ResponseReturnValue:
    """Records of another object whose lookup points at this record (``Contact.Account``
    or the lookup's ``relationship_name``), with every list parameter."""
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        parent = service.get(record_id)
        source, field = _relation(service, relation)
        expression = sa.literal_column(field.sql_expression, sa.Text)
        parent_is = Condition(
            ("related", field.api_name),
            lambda: expression == sa.bindparam("related", None, type_=sa.Text),
            {"related": parent["id"]},
        )
        query = parse_list_request(
            source,
            service.schema,
            service.access,
            request.args.to_dict(flat=False),
            extra_filters=[parent_is],
        )
        return _json(list_page(connection, service.access, service.schema, source, query))


def _relation(service: RecordService, relation: str) -> tuple[Any, Any]:
    for source, field in service.schema.referencing_lookups(service.obj.api_name):
        names = {
            f"{source.api_name}.{field.api_name}".lower(),
            str(field.definition.get("relationship_name", "")).lower(),
        }
        if relation.lower() in names:
            return source, field
    raise NotFound(
        f"No lookup to {service.obj.api_name} named {relation!r}; use Object.LookupField.",
        code="unknown_relation",
    )


@idempotent
def bulk(api_name: str) -> ResponseReturnValue:
    """Up to 200 creates, updates, upserts (by the external id field ``by``) or deletes:
    per-record results, or all-or-nothing."""
    body = json_body()
    items, operation = body.get("records"), body.get("operation", "create")
    atomic = body.get("atomic", False)
    if not isinstance(operation, str) or operation not in OPERATIONS:
        raise BadRequest(
            "operation is create, update, upsert or delete.",
            fields={"operation": "create, update, upsert or delete"},
        )
    if not isinstance(atomic, bool):
        raise BadRequest("atomic is true or false.", fields={"atomic": "A boolean."})
    if not isinstance(items, list) or not items:
        raise BadRequest("records must be a non-empty array.", fields={"records": "Required."})
    if len(items) > MAX_BULK:
        raise BadRequest(
            f"At most {MAX_BULK} records per request.",
            code="too_many_records",
            fields={"records": f"{len(items)} given; the limit is {MAX_BULK}."},
        )
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        if operation == "create":
            results = _bulk_create(service, items)
        else:
            write = (
                _bulk_upsert(service, body.get("by"))
                if operation == "upsert"
                else functools.partial(_bulk_one, service, operation)
            )
            results = [
                _bulk_each(connection, index, functools.partial(write, item))
                for index, item in enumerate(items)
            ]
        failed = not all(result["ok"] for result in results)
        if atomic and failed:
            # Raising rolls the whole transaction back: all or nothing.
            raise ValidationError(
                "No record was saved because some failed.",
                code="bulk_failed",
                fields=_bulk_errors(results),
                extra={"results": results},
            )
        if operation == "delete":
            audit_deleted(service, [result["id"] for result in results if result["ok"]])
    return _json(_bulk_body(not failed, results))


def _bulk_body(ok: bool, results: list[dict[str, Any]]) -> str:
    """The bulk response; saved records go out as the text PostgreSQL rendered them."""
    parts = []
    for result in results:
        if "record" in result:
            rest = json.dumps({key: value for key, value in result.items() if key != "record"})
            parts.append(f'{rest[:-1]},"record":{result["record"].text}}}')
        else:
            parts.append(json.dumps(result))
    return f'{{"ok":{json.dumps(ok)},"results":[{",".join(parts)}]}}'


def _bulk_create(service: RecordService, items: list[Any]) -> list[dict[str, Any]]:
    """Creates are checked one by one and written together (one statement)."""
    return [
        _failure(index, outcome)
        if isinstance(outcome, TrellisError)
        else {"index": index, "ok": True, "id": outcome["id"], "record": outcome}
        for index, outcome in enumerate(service.create_many(items))
    ]


def _bulk_each(connection: Any, index: int, write: Any) -> dict[str, Any]:
    """One record of a bulk request in a savepoint of its own: its failure is its own."""
    result = in_savepoint(connection, write)
    if isinstance(result, TrellisError):
        return _failure(index, result)
    return {"index": index, "ok": True, **result}


def _failure(index: int, error: TrellisError) -> dict[str, Any]:
    return {
        "index": index,
        "ok": False,
        "status": error.status,
        "code": error.code,
        "error": error.message,
        "errors": error.fields,
    }


def _bulk_errors(results: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per-field errors keyed ``records.<index>.<field>``, like a form would show them."""
    errors: dict[str, list[str]] = {}
    for result in results:
        if result["ok"]:
            continue
        prefix = f"records.{result['index']}"
        for field, messages in (result["errors"] or {"": [result["error"]]}).items():
            errors[f"{prefix}.{field}" if field else prefix] = messages
    return errors


def _bulk_upsert(service: RecordService, by: Any) -> Callable[[Any], dict[str, Any]]:
    """The upsert of one bulk item, which carries its value of the external id ``by``."""
    if not isinstance(by, str) or not by:
        raise BadRequest("An upsert names its external id field in by.", fields={"by": "Required."})
    field = external_id_field(service.obj, by)

    def one(item: Any) -> dict[str, Any]:
        result = upsert_item(service, field, item)
        record = result.record
        status = 201 if result.created else 200
        return {"id": record["id"], "created": result.created, "status": status, "record": record}

    return one


def _bulk_one(service: RecordService, operation: str, item: Any) -> dict[str, Any]:
    """One update or delete of a bulk request (creates go together: _bulk_create)."""
    if not isinstance(item, dict) or "id" not in item:
        raise BadRequest("Each record needs its id.", fields={"id": "Required."})
    if operation == "update":
        version = item.get("version") if isinstance(item.get("version"), int) else None
        values = {key: value for key, value in item.items() if key not in {"id", "version"}}
        record = service.update(item["id"], values, expected_version=version)
        return {"id": record["id"], "record": record}
    service.delete(item["id"])
    return {"id": str(item["id"])}


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    base = "/objects/<api_name>"
    rule(f"{base}/records", view_func=list_records, methods=["GET"])
    rule(f"{base}/records", view_func=create_record, methods=["POST"])
    rule(f"{base}/records/<record_id>", view_func=get_record, methods=["GET"])
    rule(f"{base}/records/<record_id>", view_func=update_record, methods=["PATCH"])
    rule(f"{base}/records/<record_id>", view_func=delete_record, methods=["DELETE"])
    rule(f"{base}/records/by/<field_name>/<path:value>", view_func=upsert_record, methods=["PUT"])
    rule(f"{base}/records/<record_id>/restore", view_func=restore_record, methods=["POST"])
    rule(f"{base}/records/<record_id>/history", view_func=record_history_view, methods=["GET"])
    rule(
        f"{base}/records/<record_id>/related/<relation>", view_func=related_records, methods=["GET"]
    )
    rule(f"{base}/bulk", view_func=bulk, methods=["POST"])
    rule(f"{base}/deleted", view_func=list_tombstones, methods=["GET"])
