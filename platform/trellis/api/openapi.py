"""The tenant's OpenAPI 3.1 document, generated from its current metadata.

``GET /api/v1/openapi.json`` describes the static endpoints (``/me``, ``/tokens``,
``/meta/...``) and, per object, the records endpoints: record schemas come from each
field type's ``json_schema``, filter parameters from its ``operators``, so a field added
a moment ago is documented on the next request.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    url_for,
)
from flask.typing import ResponseReturnValue

from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.api.context import tenant_transaction
from trellis.api.openapi_enum_names import name_enum_members
from trellis.api.openapi_limits import RATE_LIMIT_HEADERS
from trellis.api.openapi_list_parameters import filter_columns
from trellis.api.openapi_list_views import openapi_schemas
from trellis.api.openapi_parts import (
    static_paths,
    static_schemas,
)
from trellis.api.openapi_record_paths import object_paths
from trellis.api.openapi_record_schemas import (
    component_names,
    input_schema,
    record_schema,
    sorted_objects,
)
from trellis.api.openapi_schema import (
    INTEGER,
    TAGS,
    TEXT,
    WRITE,
    error_responses,
    operation,
    parameter,
)
from trellis.api.openapi_webhook_events import webhooks
from trellis.metadata.compiled import TenantSchema
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.state import get_state


def build_document(
    schema: TenantSchema, registry: FieldTypeRegistry, actor: Actor, contact: dict[str, str]
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a tenant's API, of ``schema`` as ``actor`` may see it;
    ``contact`` is its ``info.contact``."""
    schemas, paths = {**static_schemas(registry), **openapi_schemas()}, static_paths()
    names = component_names(schema, set(schemas))
    columns = {
        obj.api_name: filter_columns(obj, schema, actor.tenant_id)
        for obj in schema.objects.values()
    }
    for obj in sorted_objects(schema):
        own = names[obj.api_name]
        schemas[own["record"]] = record_schema(obj, schema, names)
        schemas[own["input"]] = input_schema(obj, partial=False)
        schemas[own["patch"]] = input_schema(obj, partial=True)
        paths.update(object_paths(obj, schema, names, columns))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"Trellis API · {actor.tenant_slug}",
            "version": f"1.0.0+metadata.{schema.revision}",
            "description": "The records and metadata API of one Trellis workspace, "
            "generated from its current metadata. Send `Authorization: Bearer <token>` "
            "(a browser session works too; its writes need the `X-CSRF-Token` header). "
            "Every error has one shape, `ErrorEnvelope`; clients that send "
            "`Accept: application/problem+json` get it as RFC 9457 problem details.",
            "contact": contact,
            "license": {"name": "Apache 2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "servers": [{"url": "/api/v1", "description": "This Trellis server."}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "webhooks": webhooks(),
        "components": {
            "schemas": schemas,
            "responses": error_responses(RATE_LIMIT_HEADERS),
            "headers": RATE_LIMIT_HEADERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (POST /tokens).",
                }
            },
        },
    }


def declared_tags(document: dict[str, Any], schema: TenantSchema) -> list[dict[str, str]]:
    """Every tag the document's operations use, with its description, alphabetically:
    the static ones from :data:`TAGS`, each object's from its definition."""
    objects = {
        obj.api_name: obj.definition.get("description")
        or obj.definition.get("plural_label", obj.api_name)
        for obj in schema.objects.values()
    }
    used = {
        tag
        for section in ("paths", "webhooks")
        for item in document.get(section, {}).values()
        for operation in item.values()
        for tag in operation.get("tags", ())
    }
    return [
        {"name": tag, "description": TAGS.get(tag) or objects.get(tag) or tag}
        for tag in sorted(used, key=str.lower)
    ]


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
                        f"The {argument.replace('_', ' ')} in the path.",
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
    # Objects the actor cannot read and fields hidden from them are absent.
    visible = Access.of(actor, schema).visible_schema()
    contact = {
        "name": f"The administrators of the {actor.tenant_slug} workspace",
        "url": url_for("api_docs.docs_page", _external=True),
        "email": get_state().config.api_contact_email,
    }
    document = build_document(visible, get_state().field_types, actor, contact)
    for path, operations in undescribed_paths(current_app, document["paths"]).items():
        document["paths"].setdefault(path, {}).update(operations)
    document["tags"] = declared_tags(document, visible)
    return jsonify(name_enum_members(document))


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/openapi.json", view_func=openapi_document, methods=["GET"])
