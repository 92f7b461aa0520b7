"""The records endpoints of one object in the OpenAPI document: list, create, read,
change, delete, restore, history, upsert by external id, bulk and related records."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_access import share_paths
from trellis.api.openapi_export import export_operation
from trellis.api.openapi_limits import tombstone_operation
from trellis.api.openapi_list_parameters import fields_parameter, list_parameters, page_of
from trellis.api.openapi_list_views import list_view_paths
from trellis.api.openapi_schema import (
    BOOLEAN,
    ETAG,
    IDEMPOTENCY_KEY,
    LOCATION,
    READ,
    REMOVE,
    TEXT,
    UUID,
    WRITE,
    array,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.api.records import MAX_BULK, OPERATIONS
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.columns import Column

IF_MATCH = parameter(
    "If-Match",
    "header",
    {"type": "string", "pattern": '^(?:\\*|(?:W/)?"?[0-9]{1,10}"?)$'},
    'The ETag you read, e.g. "3"; the write fails with 412 if the record changed since.',
)
# What the operations of one record do, beyond their summaries.
DESCRIPTIONS = {
    "get": (
        "One record with every field you may read, or with `fields=` the "
        "system fields and those named (lookups expanded through `Account.Name`). The "
        "ETag is its version, for `If-Match` on a later change."
    ),
    "patch": (
        "Change the fields sent, leaving the others as they are. With "
        "`If-Match`, a record changed since you read it is refused with 412 instead of "
        "overwritten; invalid values and failed validation rules answer 422 by field."
    ),
    "delete": (
        "Move the record to the recycle bin (restore it with `.../restore`). "
        "Lookups to it apply their `on_delete`: restrict refuses with 409, set null "
        "blanks them, cascade deletes the records that look up to it."
    ),
}


def object_paths(
    obj: ObjectSchema,
    schema: TenantSchema,
    all_names: dict[str, dict[str, str]],
    columns: dict[str, list[Column]],
) -> dict[str, dict[str, Any]]:
    """The records endpoints of one object (``listOpportunityRecords``...)."""
    tag, names = obj.api_name, all_names[obj.api_name]
    title, base = tag[0].upper() + tag[1:], f"/objects/{tag}"
    one = f"{base}/records/{{record_id}}"
    record_id = parameter("record_id", "path", UUID, "The record's id.")
    paths = {
        f"{base}/records": collection_operations(obj, schema, names, columns[tag], title),
        one: record_operations(obj, schema, names, title, record_id),
        **record_action_paths(one, tag, names, title, record_id),
        f"{base}/records/by/{{field_name}}/{{value}}": {"put": upsert_operation(obj, names, title)},
        f"{base}/records.csv": {"get": export_operation(obj, schema, columns[tag], title)},
        f"{base}/bulk": {"post": bulk_operation(obj, names, title)},
        f"{base}/deleted": {"get": tombstone_operation(tag, title)},
        **share_paths(one, title, record_id),
        **list_view_paths(tag, title),
    }
    paths.update(related_paths(one, obj, schema, all_names, columns, record_id))
    return paths


def collection_operations(
    obj: ObjectSchema,
    schema: TenantSchema,
    names: dict[str, str],
    columns: list[Column],
    title: str,
) -> dict[str, Any]:
    """``/objects/{tag}/records``: list and create."""
    tag, record = obj.api_name, ref(names["record"])
    return {
        "get": operation(
            f"list{title}Records",
            "List records",
            tag,
            200,
            page_of(record),
            errors=READ,
            parameters=list_parameters(obj, columns, schema),
            description="A page of the records you may read, newest first unless `sort=` "
            "says otherwise. Filter by field (`Amount__gte=1000`), by formula (`where=`), "
            "choose fields (`fields=`); pass `next_cursor` as `cursor` for the next page.",
        ),
        "post": operation(
            f"create{title}Record",
            "Create a record",
            tag,
            201,
            record,
            errors=WRITE,
            parameters=[IDEMPOTENCY_KEY],
            body=ref(names["input"]),
            headers={**ETAG, **LOCATION},
            description="Create a record from the fields given; blank required fields, "
            "invalid values and failed validation rules answer 422 with `errors` by field. "
            "The answer is the saved record, its ETag and its URL (`Location`).",
        ),
    }


def record_operations(
    obj: ObjectSchema,
    schema: TenantSchema,
    names: dict[str, str],
    title: str,
    record_id: dict[str, Any],
) -> dict[str, Any]:
    """One record: read (with ``fields=`` and ``If-None-Match``), change and delete (with
    ``If-Match``)."""
    tag, record = obj.api_name, ref(names["record"])
    operations = {
        "get": operation(
            f"get{title}Record",
            "Read a record",
            tag,
            200,
            record,
            errors=READ,
            headers=ETAG,
            description=DESCRIPTIONS["get"],
            parameters=[
                record_id,
                fields_parameter(obj, schema),
                parameter(
                    "If-None-Match",
                    "header",
                    TEXT,
                    "An ETag; 304 if current (never with lookups expanded by `fields=`: "
                    "their records change on their own).",
                ),
            ],
        ),
        "patch": operation(
            f"update{title}Record",
            "Change some fields",
            tag,
            200,
            record,
            errors=(*WRITE, 412),
            parameters=[record_id, IF_MATCH, IDEMPOTENCY_KEY],
            body=ref(names["patch"]),
            headers=ETAG,
            description=DESCRIPTIONS["patch"],
        ),
        "delete": operation(
            f"delete{title}Record",
            "Move to the recycle bin",
            tag,
            204,
            errors=(*REMOVE, 412),
            parameters=[record_id, IF_MATCH],
            description=DESCRIPTIONS["delete"],
        ),
    }
    operations["get"]["responses"]["304"] = {"description": "Not Modified", "headers": ETAG}
    return operations


def record_action_paths(
    one: str, tag: str, names: dict[str, str], title: str, record_id: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """``.../restore`` and ``.../history`` of one record."""
    history_cursor = parameter(
        "cursor",
        "query",
        {"type": "string", "pattern": "^[0-9]{1,18}$"},
        "The previous page's `next_cursor`.",
    )
    return {
        f"{one}/restore": {
            "post": operation(
                f"restore{title}Record",
                "Restore from the recycle bin",
                tag,
                200,
                ref(names["record"]),
                errors=(400, 403, 404, 409, 422),
                parameters=[record_id, IDEMPOTENCY_KEY],
                headers=ETAG,
            )
        },
        f"{one}/history": {
            "get": operation(
                f"list{title}RecordHistory",
                "Field history, newest first",
                tag,
                200,
                page_of(ref("HistoryEntry")),
                errors=READ,
                parameters=[record_id, history_cursor],
            )
        },
    }


def bulk_operation(obj: ObjectSchema, names: dict[str, str], title: str) -> dict[str, Any]:
    bulk = shape({"ok": BOOLEAN, "results": array(ref("BulkResult"))}, ["ok", "results"])
    return operation(
        f"bulk{title}Records",
        f"Create, change, upsert or delete up to {MAX_BULK} records",
        obj.api_name,
        200,
        bulk,
        errors=WRITE,
        parameters=[IDEMPOTENCY_KEY],
        body=bulk_request(obj, names),
    )


def bulk_request(obj: ObjectSchema, names: dict[str, str]) -> dict[str, Any]:
    item = {"anyOf": [ref(names["input"]), ref("RecordReference")]}
    return shape(
        {
            "records": array(
                item,
                minItems=1,
                maxItems=MAX_BULK,
                description=(
                    "create: new records; update: id, optional version and the changed fields; "
                    "upsert: the fields, the external id `by` among them, and optionally the "
                    "version; delete: id."
                ),
            ),
            "operation": {"enum": list(OPERATIONS), "default": "create"},
            "by": {
                **external_id_names(obj),
                "description": "upsert: the external id field each record is matched by.",
            },
            "atomic": {
                "type": "boolean",
                "default": False,
                "description": "All or nothing: any failure saves none (422).",
            },
        },
        ["records"],
    )


def external_id_names(obj: ObjectSchema) -> dict[str, Any]:
    """The schema of an external id field's name (any text when the object has none, so
    that the answer is the API's own 422)."""
    names = sorted(name for name, f in obj.fields.items() if f.definition.get("external_id"))
    return {"type": "string", "enum": names} if names else {"type": "string"}


def upsert_operation(obj: ObjectSchema, names: dict[str, str], title: str) -> dict[str, Any]:
    """``PUT .../records/by/{field_name}/{value}``: 201 when created, 200 when updated."""
    found = operation(
        f"upsert{title}Record",
        "Create or update by external id",
        obj.api_name,
        200,
        ref(names["record"]),
        errors=(*WRITE, 412),
        parameters=[
            parameter(
                "field_name",
                "path",
                external_id_names(obj),
                "An external id field (marked `external_id`).",
            ),
            parameter("value", "path", {"type": "string", "minLength": 1}, "Its value."),
            IF_MATCH,
            IDEMPOTENCY_KEY,
        ],
        body=ref(names["patch"]),
        headers=ETAG,
    )
    found["description"] = (
        "Updates the record whose external id holds the value (200), or creates it (201); the "
        "body may leave the field out or must send the same value. A record holding the value "
        "that you may not read is not revealed: the answer is a 409 `external_id_taken`."
    )
    created = {**found["responses"]["200"], "description": "Created"}
    found["responses"]["201"] = {**created, "headers": {**ETAG, **LOCATION}}
    return found


def related_paths(
    one: str,
    obj: ObjectSchema,
    schema: TenantSchema,
    names: dict[str, dict[str, str]],
    columns: dict[str, list[Column]],
    record_id: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """One path per lookup that points at this object (``.../related/Opportunity.Account``),
    each answering pages of the looking-up object's own records, with its filters."""
    title, paths = obj.api_name[0].upper() + obj.api_name[1:], {}
    lookups = sorted(
        schema.referencing_lookups(obj.api_name),
        key=lambda pair: (pair[0].api_name.lower(), pair[1].api_name.lower()),
    )
    for source, field in lookups:
        relation = f"{source.api_name}.{field.api_name}"
        alias = field.definition.get("relationship_name")
        paths[f"{one}/related/{relation}"] = {
            "get": operation(
                f"list{title}Related{source.api_name}By{field.api_name}",
                f"{source.definition.get('plural_label', source.api_name)} whose "
                f"{field.api_name} is this record",
                obj.api_name,
                200,
                page_of(ref(names[source.api_name]["record"])),
                errors=READ,
                parameters=[
                    record_id,
                    *list_parameters(source, columns[source.api_name], schema),
                ],
                description=f"The {source.api_name} records whose lookup {field.api_name} "
                f"points at this {obj.api_name}, with every list parameter of "
                f"{source.api_name}"
                + (f" (`related/{alias}` answers the same)." if alias else "."),
            )
        }
    return paths
