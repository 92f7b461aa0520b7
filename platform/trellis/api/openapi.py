"""The tenant's OpenAPI 3.1 document, generated from its current metadata, and its docs page.

``GET /api/v1/openapi.json`` describes the static endpoints (``/me``, ``/tokens``,
``/meta/...``) and, per object, the records endpoints: record schemas come from each
field type's ``json_schema``, filter parameters from its ``operators``, so a field added
a moment ago is documented on the next request. ``/api/docs`` serves Swagger UI from the
installed ``swagger-ui-bundle`` package (no CDN), pointed at that document.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    render_template,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue

from trellis.actor import Actor
from trellis.api.context import tenant_transaction
from trellis.api.openapi_parts import (
    static_paths,
    static_schemas,
)
from trellis.api.openapi_schema import (
    AUTH,
    BOOLEAN,
    ERRORS,
    ETAG,
    INTEGER,
    META,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    READ,
    REMOVE,
    SYSTEM_FIELDS,
    TEXT,
    UUID,
    WRITE,
    array,
    operation,
    parameter,
    ref,
    shape,
    without_null,
)
from trellis.api.records import MAX_BULK
from trellis.errors import NotFound, TrellisError
from trellis.metadata.compiled import SYSTEM_COLUMNS, CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.records.columns import Column, column
from trellis.records.query import DEFAULT_LIMIT, MAX_LIMIT
from trellis.rule_engine import FormulaError
from trellis.state import get_state


def sorted_objects(schema: TenantSchema) -> list[ObjectSchema]:
    return sorted(schema.objects.values(), key=lambda obj: obj.api_name.lower())


def component_names(schema: TenantSchema, taken: set[str]) -> dict[str, dict[str, str]]:
    """``Opportunity``, ``OpportunityInput`` and ``OpportunityPatch`` per object; a name
    already taken (an object called ``ErrorEnvelope``) gets a ``_2`` suffix."""
    taken = set(taken)
    names: dict[str, dict[str, str]] = {}
    for kind, suffix in (("record", ""), ("input", "Input"), ("patch", "Patch")):
        for obj in sorted_objects(schema):
            name, number = obj.api_name + suffix, 2
            while name in taken:
                name, number = f"{obj.api_name}{suffix}_{number}", number + 1
            taken.add(name)
            names.setdefault(obj.api_name, {})[kind] = name
    return names


def is_writable(field: CompiledField) -> bool:
    return not field.type.computed and not field.definition.get("read_only")


def field_schema(field: CompiledField) -> dict[str, Any]:
    schema = {
        **field.type.json_schema(field.definition),
        "title": field.definition.get("label", field.api_name),
    }
    help_text = field.definition.get("help_text") or field.definition.get("description")
    if help_text:
        schema["description"] = help_text
    if not is_writable(field):
        schema["readOnly"] = True
    return schema


def record_schema(obj: ObjectSchema) -> dict[str, Any]:
    properties = {name: {**schema, "readOnly": True} for name, schema in SYSTEM_FIELDS.items()}
    properties.update({name: field_schema(field) for name, field in obj.fields.items()})
    return shape(
        properties,
        ["id"],
        title=obj.definition["label"],
        description=(
            f"{obj.definition.get('description') or obj.definition['label']}. Reads return every "
            "field (null when blank); a list with `fields=` returns id and the fields named."
        ),
    )


def input_schema(obj: ObjectSchema, *, partial: bool) -> dict[str, Any]:
    """Writable fields; required ones may not be blank and must be sent on create."""
    properties, required = {}, []
    for name, field in obj.fields.items():
        if not is_writable(field):
            continue
        properties[name] = field_schema(field)
        if field.definition.get("required"):
            properties[name] = without_null(properties[name])
            if field.definition.get("default") is None:
                required.append(name)
    properties["owner_id"] = {**OPTIONAL_UUID, "description": "The owning user."}
    return shape(properties, () if partial else required)


# -- list parameters ---------------------------------------------------------------------
def filter_columns(obj: ObjectSchema, schema: TenantSchema, tenant_id: uuid.UUID) -> list[Column]:
    """The system columns and fields a list can filter (and maybe sort) by: exactly those
    the list query's own :func:`column` accepts."""
    resolver, found = schema.formulas.sql(obj, tenant_id), []
    for name in [*SYSTEM_COLUMNS, *obj.fields]:
        try:
            found.append(column(obj, name, resolver))
        except (TrellisError, FormulaError, ValueError):  # a field with no SQL form
            continue
    return found


def filter_value_schema(target: Column, operator: str) -> dict[str, Any]:
    if operator in {"isnull", "in"}:
        return BOOLEAN if operator == "isnull" else TEXT
    if target.field is None:
        return without_null(SYSTEM_FIELDS[target.name])
    value = without_null(target.field.type.json_schema(target.field.definition))
    if value.get("type") == "array":
        value = value.get("items", TEXT)
    if operator in {"contains", "startswith"} and "enum" not in value:
        return TEXT
    return {key: value[key] for key in ("type", "format", "enum", "pattern") if key in value}


def filter_parameters(columns: list[Column]) -> list[dict[str, Any]]:
    """``Field`` (equals) and ``Field__op`` for each operator of each filterable column."""
    return [
        parameter(
            target.name if operator == "eq" else f"{target.name}__{operator}",
            "query",
            filter_value_schema(target, operator),
            f"{target.name} {operator} the value"
            + (" (comma-separated values)." if operator == "in" else "."),
        )
        for target in columns
        for operator in target.operators
    ]


def names_pattern(names: list[str], signed: bool) -> str:
    one = ("[-+]?" if signed else "") + "(?:" + "|".join(map(re.escape, names)) + ")"
    return f"^{one}(?:,{one})*$"


def list_parameters(obj: ObjectSchema | None, columns: list[Column]) -> list[dict[str, Any]]:
    """Sort, projection and paging parameters, and ``obj``'s filters when it is given."""
    sort, fields = dict(TEXT), dict(TEXT)
    if obj is not None:
        sort["pattern"] = names_pattern(
            [
                target.name
                for target in columns
                if target.field is None or target.field.type.sortable
            ],
            signed=True,
        )
        fields["pattern"] = names_pattern(["id", *obj.fields], signed=False)
    limit = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
    return [
        parameter(
            "sort",
            "query",
            sort,
            "Comma-separated fields, `-` for descending, "
            "e.g. `-Amount,Name` (default `-created_at`).",
        ),
        parameter("fields", "query", fields, "Comma-separated fields to return with id."),
        parameter("limit", "query", limit, "Records per page."),
        parameter("cursor", "query", TEXT, "The previous page's `next_cursor`."),
        parameter("count", "query", BOOLEAN, "Also return `total`, the number of matches."),
        parameter("deleted", "query", BOOLEAN, "List the recycle bin instead."),
        parameter(
            "where", "query", TEXT, "A formula each record must satisfy, e.g. `Amount > 1000`."
        ),
        *(filter_parameters(columns) if obj is not None else ()),
    ]


def page_of(items: dict[str, Any]) -> dict[str, Any]:
    return shape(
        {
            "data": array(items),
            "next_cursor": OPTIONAL_TEXT,
            "total": {"type": "integer", "minimum": 0, "description": "With count=true."},
        },
        ["data", "next_cursor"],
    )


# -- records paths -----------------------------------------------------------------------
def object_paths(
    obj: ObjectSchema,
    schema: TenantSchema,
    all_names: dict[str, dict[str, str]],
    columns: dict[str, list[Column]],
) -> dict[str, dict[str, Any]]:
    """The records endpoints of one object (``listOpportunityRecords``...)."""
    tag, names = obj.api_name, all_names[obj.api_name]
    title, record, base = tag[0].upper() + tag[1:], ref(names["record"]), f"/objects/{tag}"
    one = f"{base}/records/{{record_id}}"
    record_id = parameter("record_id", "path", UUID, "The record's id.")
    if_match = parameter(
        "If-Match",
        "header",
        {"type": "string", "pattern": '^(?:\\*|(?:W/)?"?[0-9]{1,10}"?)$'},
        'The ETag you read, e.g. "3"; the write fails with 412 if the record changed since.',
    )
    history_cursor = parameter(
        "cursor",
        "query",
        {"type": "string", "pattern": "^[0-9]{1,18}$"},
        "The previous page's `next_cursor`.",
    )
    bulk = shape({"ok": BOOLEAN, "results": array(ref("BulkResult"))}, ["ok", "results"])
    paths = {
        f"{base}/records": {
            "get": operation(
                f"list{title}Records",
                "List records",
                tag,
                200,
                page_of(record),
                errors=READ,
                parameters=list_parameters(obj, columns[tag]),
            ),
            "post": operation(
                f"create{title}Record",
                "Create a record",
                tag,
                201,
                record,
                errors=WRITE,
                body=ref(names["input"]),
                headers=ETAG,
            ),
        },
        one: {
            "get": operation(
                f"get{title}Record",
                "Read a record",
                tag,
                200,
                record,
                errors=(404,),
                headers=ETAG,
                parameters=[
                    record_id,
                    parameter("If-None-Match", "header", TEXT, "An ETag; 304 if current."),
                ],
            ),
            "patch": operation(
                f"update{title}Record",
                "Change some fields",
                tag,
                200,
                record,
                errors=(*WRITE, 412),
                parameters=[record_id, if_match],
                body=ref(names["patch"]),
                headers=ETAG,
            ),
            "delete": operation(
                f"delete{title}Record",
                "Move to the recycle bin",
                tag,
                204,
                errors=(*REMOVE, 412),
                parameters=[record_id, if_match],
            ),
        },
        f"{one}/restore": {
            "post": operation(
                f"restore{title}Record",
                "Restore from the recycle bin",
                tag,
                200,
                record,
                errors=(403, 404, 409, 422),
                parameters=[record_id],
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
        f"{base}/bulk": {
            "post": operation(
                f"bulk{title}Records",
                f"Create, change or delete up to {MAX_BULK} records",
                tag,
                200,
                bulk,
                errors=WRITE,
                body=bulk_request(names),
            )
        },
    }
    paths[one]["get"]["responses"]["304"] = {"description": "Not Modified", "headers": ETAG}
    related = related_operation(obj, schema, all_names, columns, title, record_id)
    if related is not None:
        paths[f"{one}/related/{{relation}}"] = {"get": related}
    return paths


def bulk_request(names: dict[str, str]) -> dict[str, Any]:
    item = {"anyOf": [ref(names["input"]), ref("RecordReference")]}
    return shape(
        {
            "records": array(
                item,
                minItems=1,
                maxItems=MAX_BULK,
                description=(
                    "create: new records; update: id, optional version and the changed fields; "
                    "delete: id."
                ),
            ),
            "operation": {"enum": ["create", "update", "delete"], "default": "create"},
            "atomic": {
                "type": "boolean",
                "default": False,
                "description": "All or nothing: any failure saves none (422).",
            },
        },
        ["records"],
    )


def related_operation(
    obj: ObjectSchema,
    schema: TenantSchema,
    names: dict[str, dict[str, str]],
    columns: dict[str, list[Column]],
    title: str,
    record_id: dict[str, Any],
) -> dict[str, Any] | None:
    """Records whose lookups point at this record, by ``Object.LookupField`` relation."""
    lookups = schema.referencing_lookups(obj.api_name)
    if not lookups:
        return None
    sources = sorted(
        {source.api_name: source for source, _ in lookups}.values(),
        key=lambda source: source.api_name.lower(),
    )
    refs = [ref(names[source.api_name]["record"]) for source in sources]
    relation = parameter(
        "relation",
        "path",
        {"enum": sorted(f"{source.api_name}.{field.api_name}" for source, field in lookups)},
    )
    return operation(
        f"list{title}RelatedRecords",
        "Records that look up to this one",
        obj.api_name,
        200,
        page_of(refs[0] if len(refs) == 1 else {"anyOf": refs}),
        errors=READ,
        parameters=[
            record_id,
            relation,
            *(
                list_parameters(sources[0], columns[sources[0].api_name])
                if len(sources) == 1
                else list_parameters(None, [])
            ),
        ],
    )


# -- static schemas and paths ------------------------------------------------------------
def build_document(
    schema: TenantSchema, registry: FieldTypeRegistry, actor: Actor
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one tenant's API at its current metadata revision."""
    schemas, paths = static_schemas(registry), static_paths()
    names = component_names(schema, set(schemas))
    columns = {
        obj.api_name: filter_columns(obj, schema, actor.tenant_id)
        for obj in schema.objects.values()
    }
    for obj in sorted_objects(schema):
        own = names[obj.api_name]
        schemas[own["record"]] = record_schema(obj)
        schemas[own["input"]] = input_schema(obj, partial=False)
        schemas[own["patch"]] = input_schema(obj, partial=True)
        paths.update(object_paths(obj, schema, names, columns))
    objects = [
        {
            "name": obj.api_name,
            "description": obj.definition.get("description")
            or obj.definition.get("plural_label", obj.api_name),
        }
        for obj in sorted_objects(schema)
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"Trellis API · {actor.tenant_slug}",
            "version": f"1.0.0+metadata.{schema.revision}",
            "description": "The records and metadata API of one Trellis workspace, "
            "generated from its current metadata. Send `Authorization: Bearer <token>` "
            "(a browser session works too; its writes need the `X-CSRF-Token` header). "
            "Every error has one shape, `ErrorEnvelope`.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": AUTH, "description": "You and your API tokens."},
            {"name": META, "description": "Objects, fields and revisions."},
            *objects,
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                name: {
                    "description": description,
                    "content": {"application/json": {"schema": ref("ErrorEnvelope")}},
                }
                for name, description in ERRORS.values()
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (POST /tokens).",
                }
            },
        },
    }


def undescribed_paths(app: Flask, described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Routes under /api/v1 that the document does not describe yet (a plugin's, a new one),
    with what every endpoint shares and their docstring, so none is ever missing."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        if not rule.rule.startswith("/api/v1/") or path.startswith("/objects/"):
            continue
        view, name = app.view_functions[rule.endpoint], rule.endpoint.rpartition(".")[2]
        known = {method.upper() for method in described.get(path, {})}
        # Every rule Flask adds has its methods (werkzeug types them as optional).
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"} - known):
            found = operation(
                re.sub(r"_(\w)", lambda match: match.group(1).upper(), name) + method.title(),
                (view.__doc__ or name).strip().splitlines()[0],
                "Other",
                "2XX",
                errors=(*WRITE, 412),
                parameters=[
                    parameter(
                        argument,
                        "path",
                        INTEGER if re.search(rf"<(int|row_id):{argument}>", rule.rule) else TEXT,
                    )
                    for argument in sorted(rule.arguments)
                ],
            )
            if method in {"POST", "PUT", "PATCH"}:
                found["requestBody"] = {"content": {"application/json": {"schema": {}}}}
            paths.setdefault(path, {})[method.lower()] = found
    return paths


def openapi_document() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        schema = get_state().metadata_cache.get(connection, actor.tenant_id)
    document = build_document(schema, get_state().field_types, actor)
    for path, operations in undescribed_paths(current_app, document["paths"]).items():
        document["paths"].setdefault(path, {}).update(operations)
    return jsonify(document)


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/openapi.json", view_func=openapi_document, methods=["GET"])


# -- the interactive docs page -----------------------------------------------------------
SWAGGER_UI = Path(str(swagger_ui_bundle.swagger_ui_path))
DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})


def docs_page() -> ResponseReturnValue:
    # Swagger UI renders OpenAPI 3.1 from version 5 on; the page adapts it for older ones.
    version = re.search(r"(\d+)\.\d+\.\d+$", SWAGGER_UI.name)
    return render_template(
        "api_docs.html",
        spec_url=url_for("api.openapi_document"),
        needs_openapi_30=version is not None and int(version.group(1)) < 5,
    )


def docs_asset(filename: str) -> ResponseReturnValue:
    if filename.removesuffix(".map") not in DOCS_ASSETS:
        raise NotFound(f"No documentation asset {filename!r}.")
    return send_from_directory(SWAGGER_UI, filename, max_age=3600)


def create_docs_blueprint() -> Blueprint:
    """``/api/docs``: interactive documentation, served entirely by this app (no CDN)."""
    blueprint = Blueprint("api_docs", __name__)
    blueprint.add_url_rule("/api/docs", view_func=docs_page, methods=["GET"])
    blueprint.add_url_rule(
        "/api/docs/static/<path:filename>", view_func=docs_asset, methods=["GET"]
    )
    return blueprint
