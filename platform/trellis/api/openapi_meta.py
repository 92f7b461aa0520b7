"""The OpenAPI description of the metadata API (``/meta/...``): object and field
definitions, revisions and rollback, field types, the formula check and packages."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_formulas import formula_paths
from trellis.api.openapi_schema import (
    API_NAME,
    BOOLEAN,
    INTEGER,
    META,
    MOMENT,
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
            [*meta["required"], "plural_label", "name_field", "id"],
        ),
    }


# Changes between two definitions, as trellis.metadata.documents.diff_definitions writes
# them: ``change`` says what, ``field``, ``property``, ``old`` and ``new`` where it applies.
DIFF = array({"type": "object", "properties": {"change": TEXT}})


def revision_schemas() -> dict[str, Any]:
    """``Revision`` and ``FieldType``, what the revision log and the field types list show."""
    revision = {
        "revision": INTEGER,
        "author_id": OPTIONAL_UUID,
        "created_at": MOMENT,
        "message": TEXT,
        "objects": array(OPTIONAL_TEXT),
        "diff": DIFF,
    }
    return {
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
    }


def meta_paths() -> dict[str, dict[str, Any]]:
    """The metadata endpoints, every tenant's."""
    return {
        **object_definition_paths(),
        **field_definition_paths(),
        **one_field_paths(),
        **revision_paths(),
        **formula_paths(),
        **package_paths(),
    }


def object_definition_paths() -> dict[str, dict[str, Any]]:
    """``/meta/objects``: list, create, read, replace and delete object definitions."""
    name = parameter("api_name", "path", API_NAME, "The object's API name (any case).")
    force = parameter("force", "query", BOOLEAN, "Go ahead even though values would be lost.")
    message = parameter("message", "query", TEXT, "A note for the revision history.")
    definition = ref("ObjectDefinition")
    return {
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
    }


def field_definition_paths() -> dict[str, dict[str, Any]]:
    """An object's fields: list and add."""
    name = parameter("api_name", "path", API_NAME, "The object's API name (any case).")
    field = ref("FieldDefinition")
    return {
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
    }


def one_field_paths() -> dict[str, dict[str, Any]]:
    """One field: read, change, hide (keeping its values) and purge its values."""
    field_path = [
        parameter("api_name", "path", API_NAME, "The object's API name (any case)."),
        parameter("field_name", "path", API_NAME, "The field's API name (any case)."),
    ]
    force = parameter("force", "query", BOOLEAN, "Go ahead even though values would be lost.")
    field = ref("FieldDefinition")
    return {
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
    }


def revision_paths() -> dict[str, dict[str, Any]]:
    """The revision log: list, read one, roll back to one."""
    number = [
        parameter("number", "path", {"type": "integer", "minimum": 0}, "The revision's number.")
    ]
    rollback = shape(
        {"revision": INTEGER, "rolled_back_to": INTEGER}, ["revision", "rolled_back_to"]
    )
    return {
        "/meta/revisions": {
            "get": operation(
                "listMetadataRevisions",
                "Revisions, newest first",
                META,
                200,
                data_of(ref("Revision")),
                errors=(400,),
                parameters=[
                    parameter(
                        "before",
                        "query",
                        {"type": "integer", "minimum": 0},
                        "Revisions older than this number (the previous page's last).",
                    )
                ],
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
    }


def package_paths() -> dict[str, dict[str, Any]]:
    """``/meta/package``: the objects exported as one package, and imported from one."""
    force = parameter("force", "query", BOOLEAN, "Go ahead even though values would be lost.")
    message = parameter("message", "query", TEXT, "A note for the revision history.")
    package = {"type": "object"}
    access = shape(
        {
            "kind": {"enum": ["role", "permission_set"]},
            "api_name": TEXT,
            "action": {"enum": ["create", "update", "unchanged"]},
            "diff": DIFF,
        },
        ["kind", "api_name", "action", "diff"],
    )
    views = shape(
        {
            "kind": {"const": "list_view"},
            "api_name": {**TEXT, "description": "Object.view"},
            "action": {"enum": ["create", "update", "unchanged"]},
            "diff": DIFF,
        },
        ["kind", "api_name", "action", "diff"],
    )
    imported = shape(
        {
            "dry_run": BOOLEAN,
            "changed": BOOLEAN,
            "plan": array(package),
            "access": array(access),
            "list_views": array(views),
        },
        ["dry_run", "changed", "plan", "access", "list_views"],
    )
    return {
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
