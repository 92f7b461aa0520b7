"""Building blocks of the OpenAPI document: schema helpers, the shared schemas and the
static (non-object) endpoints. :mod:`trellis.api.openapi` adds the per-object parts."""

from __future__ import annotations

import http
from typing import Any

from trellis.actor import TOKEN_SCOPES
from trellis.api.meta import PURPOSES
from trellis.metadata.documents import object_meta_schema
from trellis.metadata.field_types import FieldTypeRegistry

TEXT, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
OPTIONAL_TEXT = {"type": ["string", "null"]}
API_NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,62}$"}
UUID = {"type": "string", "format": "uuid"}
OPTIONAL_UUID = {"type": ["string", "null"], "format": "uuid"}
MOMENT = {"type": "string", "format": "date-time"}
OPTIONAL_MOMENT = {"type": ["string", "null"], "format": "date-time"}
SYSTEM_FIELDS: dict[str, dict[str, Any]] = {
    "id": UUID,
    "version": INTEGER,
    "created_at": MOMENT,
    "updated_at": MOMENT,
    "created_by": OPTIONAL_UUID,
    "updated_by": OPTIONAL_UUID,
    "owner_id": OPTIONAL_UUID,
}
ERRORS = {
    400: ("BadRequest", "A parameter, header or body is malformed."),
    401: ("Unauthorized", "No valid bearer token or session."),
    403: ("Forbidden", "The token lacks a scope, or the user is not an administrator."),
    404: ("NotFound", "No such object, record or resource."),
    409: ("Conflict", "The change conflicts with the current state."),
    412: ("PreconditionFailed", "If-Match names an older version of the record."),
    413: ("PayloadTooLarge", "The body is larger than the server accepts."),
    415: ("UnsupportedMediaType", "Send the body as application/json."),
    422: ("ValidationFailed", "Invalid values; `errors` lists them by field."),
    500: ("ServerError", "An unexpected error; the request_id identifies it in the logs."),
}
READ, WRITE, REMOVE = (400, 404), (400, 403, 404, 409, 413, 415, 422), (400, 403, 404, 409)
ETAG = {"ETag": {"required": True, "schema": TEXT, "description": "The version, for If-Match."}}
AUTH, META = "Authentication", "Metadata"


# -- building blocks ---------------------------------------------------------------------
def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def shape(
    properties: dict[str, Any], required: Any = (), closed: bool = True, **extra: Any
) -> dict[str, Any]:
    """An object schema; closed ones reject properties they do not name."""
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def data_of(items: dict[str, Any]) -> dict[str, Any]:
    return shape({"data": array(items)}, ["data"])


def parameter(name: str, where: str, schema: dict[str, Any], description: str = "") -> dict:
    found = {"name": name, "in": where, "schema": schema, "required": where == "path"}
    return {**found, "description": description} if description else found


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    status: int | str,
    schema: dict[str, Any] | None = None,
    *,
    errors: tuple[int, ...] = (),
    parameters: list[dict[str, Any]] | None = None,
    body: Any = None,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One operation; each error status it may answer refers to the one envelope."""
    success: dict[str, Any] = {
        "description": http.HTTPStatus(status).phrase if isinstance(status, int) else "Success"
    }
    if schema is not None:
        success["content"] = {"application/json": {"schema": schema}}
    if headers:
        success["headers"] = headers
    responses = {str(status): success}
    for error in sorted({401, 500, *errors}):
        responses[str(error)] = {"$ref": f"#/components/responses/{ERRORS[error][0]}"}
    found: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        found["parameters"] = parameters
    if body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return found


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a value that may not be blank (a required field, a filter value)."""
    schema = dict(schema)
    if isinstance(schema.get("type"), list):
        kinds = [kind for kind in schema["type"] if kind != "null"]
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "enum" in schema:
        schema["enum"] = [value for value in schema["enum"] if value is not None]
    return schema


# -- record schemas ----------------------------------------------------------------------
def inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """The meta-schema with its local ``#/$defs/...`` references written out in place."""
    if isinstance(node, dict):
        target = node.get("$ref", "")
        if target.startswith("#/$defs/"):
            return inline_refs(definitions[target.removeprefix("#/$defs/")], definitions)
        return {key: inline_refs(value, definitions) for key, value in node.items()}
    return [inline_refs(item, definitions) for item in node] if isinstance(node, list) else node


def definition_schemas(registry: FieldTypeRegistry) -> dict[str, Any]:
    """Object and field definitions, from the shipped meta-schema and every field type."""
    meta = object_meta_schema()
    field = dict(inline_refs(meta["$defs"]["field_common"], meta["$defs"]))
    for field_type in sorted(registry.all(), key=lambda found: found.name):
        for name, schema in field_type.properties.items():
            field.setdefault(name, schema)
    field["type"] = {"enum": registry.names()}
    field["index"] = shape(
        {"status": TEXT, "unique": BOOLEAN, "error": OPTIONAL_TEXT}, readOnly=True
    )
    properties = inline_refs(meta["properties"], meta["$defs"])
    properties["fields"] = {**properties["fields"], "items": ref("FieldDefinition")}
    return {
        "FieldDefinition": shape(
            field,
            ["api_name", "type"],
            description=("Common properties and those of its type (see /meta/field-types)."),
        ),
        "FieldDefinitionPatch": shape(field),
        "ObjectDefinitionInput": shape(properties, meta["required"]),
        "ObjectDefinition": shape(
            {**properties, "id": {**UUID, "readOnly": True}},
            [*meta["required"], "plural_label", "id"],
        ),
    }


def static_schemas(registry: FieldTypeRegistry) -> dict[str, Any]:
    from trellis.api.openapi_automations import openapi_schemas as automation_schemas
    from trellis.api.webhooks import openapi_schemas as webhook_schemas

    scopes = array({"enum": list(TOKEN_SCOPES)}, uniqueItems=True)
    token = {
        "id": UUID,
        "name": TEXT,
        "prefix": TEXT,
        "user_id": UUID,
        "scopes": scopes,
        "created_at": MOMENT,
        "expires_at": OPTIONAL_MOMENT,
        "last_used_at": OPTIONAL_MOMENT,
        "revoked_at": OPTIONAL_MOMENT,
    }
    revision = {
        "revision": INTEGER,
        "author_id": OPTIONAL_UUID,
        "created_at": MOMENT,
        "message": TEXT,
        "objects": array(OPTIONAL_TEXT),
        "diff": array({"type": "object", "properties": {"change": TEXT}}),
    }
    messages = {"type": "object", "additionalProperties": array(TEXT)}
    return {
        "ErrorEnvelope": shape(
            {
                "ok": {"const": False},
                "status": INTEGER,
                "code": TEXT,
                "error": TEXT,
                "errors": {**messages, "description": "Messages by field, as forms show them."},
                "request_id": OPTIONAL_TEXT,
            },
            ["ok", "status", "code", "error", "errors", "request_id"],
            closed=False,
        ),
        "Actor": shape(
            {
                "tenant": shape({"id": UUID, "slug": TEXT}, ["id", "slug"]),
                "user": shape({"id": OPTIONAL_UUID, "email": OPTIONAL_TEXT}, ["id", "email"]),
                "roles": array(TEXT),
                "token": {
                    "anyOf": [
                        {"type": "null"},
                        shape({"id": UUID, "scopes": scopes}, ["id", "scopes"]),
                    ]
                },
            },
            ["tenant", "user", "roles", "token"],
        ),
        "Token": shape(token, token),
        "NewToken": shape(
            {**token, "token": {**TEXT, "description": "Shown only once."}}, [*token, "token"]
        ),
        "TokenInput": shape(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "scopes": scopes,
                "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650},
            },
            ["name"],
        ),
        **definition_schemas(registry),
        **webhook_schemas(),
        **automation_schemas(),
        "Revision": shape(
            {
                **revision,
                "changes": array(
                    {"type": "object"}, description="Before and after (reading one revision)."
                ),
            },
            revision,
        ),
        "FieldType": shape(
            {
                "name": TEXT,
                "properties": {"type": "object"},
                "required_properties": array(TEXT),
                "operators": array(TEXT),
                "sortable": BOOLEAN,
                "computed": BOOLEAN,
            },
            ["name", "properties", "required_properties", "operators", "sortable", "computed"],
        ),
        "HistoryEntry": shape(
            {
                "id": INTEGER,
                "action": {"enum": ["created", "updated", "deleted", "restored"]},
                "changes": {
                    "type": "object",
                    "description": "[old, new] by field.",
                    "additionalProperties": array({}, minItems=2, maxItems=2),
                },
                "actor_id": OPTIONAL_UUID,
                "created_at": MOMENT,
            },
            ["id", "action", "changes", "actor_id", "created_at"],
        ),
        "RecordReference": shape(
            {"id": UUID, "version": INTEGER},
            ["id"],
            closed=False,
            description="A record by id, with the fields to change.",
        ),
        "BulkResult": shape(
            {
                "index": INTEGER,
                "ok": BOOLEAN,
                "id": TEXT,
                "record": {"type": "object"},
                "status": INTEGER,
                "code": TEXT,
                "error": TEXT,
                "errors": {**messages, "type": ["object", "null"]},
            },
            ["index", "ok"],
        ),
    }


def static_paths() -> dict[str, dict[str, Any]]:
    """The endpoints every tenant has: the actor, API tokens, the metadata API, webhooks,
    manual automation runs."""
    from trellis.api.automation_trigger import openapi_paths as trigger_paths
    from trellis.api.openapi_automations import openapi_paths as automation_paths
    from trellis.api.webhooks import openapi_paths as webhook_paths

    name, field_path = (
        parameter("api_name", "path", API_NAME),
        [parameter("api_name", "path", API_NAME), parameter("field_name", "path", API_NAME)],
    )
    number = [parameter("number", "path", {"type": "integer", "minimum": 0})]
    force = parameter("force", "query", BOOLEAN, "Go ahead even though values would be lost.")
    message = parameter("message", "query", TEXT, "A note for the revision history.")
    definition, field, package = ref("ObjectDefinition"), ref("FieldDefinition"), {"type": "object"}
    rollback = shape(
        {"revision": INTEGER, "rolled_back_to": INTEGER}, ["revision", "rolled_back_to"]
    )
    imported = shape(
        {"dry_run": BOOLEAN, "changed": BOOLEAN, "plan": array(package)},
        ["dry_run", "changed", "plan"],
    )
    checked = shape(
        {
            "valid": BOOLEAN,
            "return_type": TEXT,
            "references": array(TEXT),
            "error": shape({"message": TEXT}, ["message"], closed=False),
        },
        ["valid"],
    )
    return {
        "/me": {"get": operation("getMe", "The authenticated actor", AUTH, 200, ref("Actor"))},
        **webhook_paths(),
        **trigger_paths(),
        **automation_paths(),
        "/openapi.json": {
            "get": operation("getOpenApiDocument", "This document", AUTH, 200, package)
        },
        "/tokens": {
            "get": operation("listTokens", "API tokens", AUTH, 200, data_of(ref("Token"))),
            "post": operation(
                "createToken",
                "Create an API token",
                AUTH,
                201,
                ref("NewToken"),
                errors=WRITE,
                body=ref("TokenInput"),
            ),
        },
        "/tokens/{token_id}": {
            "delete": operation(
                "revokeToken",
                "Revoke an API token",
                AUTH,
                204,
                errors=(403, 404),
                parameters=[parameter("token_id", "path", UUID)],
            )
        },
        "/meta/objects": {
            "get": operation(
                "listObjectDefinitions",
                "Object definitions",
                META,
                200,
                shape({"data": array(definition), "revision": INTEGER}, ["data", "revision"]),
            ),
            "post": operation(
                "createObjectDefinition",
                "Create an object",
                META,
                201,
                definition,
                errors=WRITE,
                parameters=[message],
                body=ref("ObjectDefinitionInput"),
            ),
        },
        "/meta/objects/{api_name}": {
            "get": operation(
                "getObjectDefinition",
                "An object",
                META,
                200,
                definition,
                errors=(404,),
                parameters=[name],
            ),
            "put": operation(
                "replaceObjectDefinition",
                "Replace an object",
                META,
                200,
                definition,
                errors=WRITE,
                parameters=[name, force, message],
                body=ref("ObjectDefinitionInput"),
            ),
            "delete": operation(
                "deleteObjectDefinition",
                "Delete an object",
                META,
                204,
                errors=REMOVE,
                parameters=[name, force],
            ),
        },
        "/meta/objects/{api_name}/fields": {
            "get": operation(
                "listFieldDefinitions",
                "An object's fields",
                META,
                200,
                data_of(field),
                errors=(404,),
                parameters=[name],
            ),
            "post": operation(
                "addFieldDefinition",
                "Add a field",
                META,
                201,
                field,
                errors=WRITE,
                parameters=[name],
                body=field,
            ),
        },
        "/meta/objects/{api_name}/fields/{field_name}": {
            "get": operation(
                "getFieldDefinition",
                "A field",
                META,
                200,
                field,
                errors=(404,),
                parameters=field_path,
            ),
            "patch": operation(
                "changeFieldDefinition",
                "Change a field",
                META,
                200,
                field,
                errors=WRITE,
                parameters=[*field_path, force],
                body=ref("FieldDefinitionPatch"),
            ),
            "delete": operation(
                "deleteFieldDefinition",
                "Hide a field, keeping its values",
                META,
                204,
                errors=(*REMOVE, 422),
                parameters=field_path,
            ),
        },
        "/meta/objects/{api_name}/fields/{field_name}/purge": {
            "post": operation(
                "purgeFieldValues",
                "Erase a hidden field's values",
                META,
                200,
                shape({"purged_records": INTEGER}, ["purged_records"]),
                errors=(403, 404, 409),
                parameters=field_path,
            )
        },
        "/meta/revisions": {
            "get": operation(
                "listMetadataRevisions",
                "Revisions, newest first",
                META,
                200,
                data_of(ref("Revision")),
                errors=(400,),
                parameters=[parameter("before", "query", {"type": "integer", "minimum": 0})],
            )
        },
        "/meta/revisions/{number}": {
            "get": operation(
                "getMetadataRevision",
                "A revision",
                META,
                200,
                ref("Revision"),
                errors=(404,),
                parameters=number,
            )
        },
        "/meta/revisions/{number}/rollback": {
            "post": operation(
                "rollBackMetadata",
                "Restore the objects as they were at a revision",
                META,
                200,
                rollback,
                errors=(403, 404, 409, 422),
                parameters=number,
            )
        },
        "/meta/field-types": {
            "get": operation("listFieldTypes", "Field types", META, 200, data_of(ref("FieldType")))
        },
        "/meta/formulas/check": {
            "post": operation(
                "checkFormula",
                "Check a formula: its type, or the error and where it is",
                META,
                200,
                checked,
                errors=(400, 404, 413, 415, 422),
                body=shape(
                    {
                        "object": API_NAME,
                        "source": TEXT,
                        "purpose": {"enum": list(PURPOSES)},
                        "return_type": OPTIONAL_TEXT,
                    },
                    ["object", "source"],
                ),
            )
        },
        "/meta/package": {
            "get": operation(
                "exportMetadataPackage",
                "The objects as one package (YAML with Accept: application/yaml)",
                META,
                200,
                package,
            ),
            "post": operation(
                "importMetadataPackage",
                "Make the objects match a package",
                META,
                200,
                imported,
                errors=WRITE,
                body=package,
                parameters=[parameter("dry_run", "query", BOOLEAN, "Only plan."), force, message],
            ),
        },
    }


# -- the document ------------------------------------------------------------------------
