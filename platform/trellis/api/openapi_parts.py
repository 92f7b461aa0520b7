"""The tenant-independent parts of the OpenAPI document: the shared schemas and the
static (non-object) endpoints. :mod:`trellis.api.openapi` adds the per-object parts."""

from __future__ import annotations

from typing import Any

from trellis.actor import TOKEN_SCOPES
from trellis.api import automation_trigger, openapi_automations, openapi_webhooks
from trellis.api.meta import PURPOSES
from trellis.api.openapi_schema import (
    API_NAME,
    AUTH,
    BOOLEAN,
    INTEGER,
    META,
    MOMENT,
    OPTIONAL_MOMENT,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    REMOVE,
    TEXT,
    UUID,
    WRITE,
    array,
    data_of,
    inline_refs,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.metadata.documents import object_meta_schema
from trellis.metadata.field_types import FieldTypeRegistry

# The check answers with the type the formula has; it is invalid unless that is the
# type its use needs: a checkbox (true/false) for these purposes, any for the others.
FORMULA_CHECK = (
    "`purpose` says where the formula will be used and so the type it must have: "
    + ", ".join(f"`{name}`" for name, options in PURPOSES.items() if "expected_type" in options)
    + " (the default is `validation_rule`) expect a checkbox (true/false); "
    + ", ".join(f"`{name}`" for name, options in PURPOSES.items() if "expected_type" not in options)
    + " accept any type. `return_type` (a field type, such as `currency`) sets the type "
    "it must have instead."
)


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
        **openapi_webhooks.openapi_schemas(),
        **openapi_automations.openapi_schemas(),
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
        **openapi_webhooks.openapi_paths(),
        **automation_trigger.openapi_paths(),
        **openapi_automations.openapi_paths(),
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
            "post": {
                **operation(
                    "checkFormula",
                    "Check a formula: its type, or the error and where it is",
                    META,
                    200,
                    checked,
                    errors=(400, 404, 413, 415, 422),
                    body=shape(
                        {
                            "object": {**API_NAME, "description": "The object it runs on."},
                            "expression": {**TEXT, "description": "The formula."},
                            "purpose": {"enum": list(PURPOSES), "default": "validation_rule"},
                            "return_type": {
                                **OPTIONAL_TEXT,
                                "description": "The type it must have, overriding the purpose's.",
                            },
                        },
                        ["object", "expression"],
                    ),
                ),
                "description": FORMULA_CHECK,
            }
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
