"""Building blocks of the OpenAPI document: JSON Schema shorthands, references, and
helpers for parameters and operations, shared by every module that describes endpoints."""

from __future__ import annotations

import http
from collections.abc import Iterable
from typing import Any

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
    429: (
        "TooManyRequests",
        "The request budget (see the RateLimit headers) or the sign-in attempts are spent; "
        "retry after `Retry-After` s.",
    ),
    500: ("ServerError", "An unexpected error; the request_id identifies it in the logs."),
}
READ, WRITE, REMOVE = (400, 404), (400, 403, 404, 409, 413, 415, 422), (400, 403, 404, 409)
ETAG = {"ETag": {"required": True, "schema": TEXT, "description": "The version, for If-Match."}}
LOCATION = {
    "Location": {
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
        "description": "The new record's URL.",
    }
}
AUTH, META = "Authentication", "Metadata"
# The tags of the static endpoints; each object's records endpoints are tagged with its
# API name (described by the object's own description).
TAGS = {
    AUTH: "You, your API tokens and two-factor sign-in.",
    META: "Objects, fields, formulas, packages and the revision history of the metadata.",
    "Access": "Users, groups, roles, permission sets, sharing rules and record shares.",
    "Audit": "The audit log of administrative changes and sign-ins.",
    "Automation": "Automations, their run log and manual runs.",
    "Imports": "CSV imports: upload a file, map its columns, run it as a job.",
    "Privacy": "Personal data requests: find, export and erase a person's data.",
    "Search": "Search across every object the caller may read.",
    "Webhooks": "Webhook subscriptions and their deliveries.",
    "Other": "Endpoints that plugins add.",
}
# How every error answers: the envelope, or the same fields as RFC 9457 problem details
# when Accept prefers application/problem+json.
ERROR_MEDIA_TYPES = {
    "application/json": "ErrorEnvelope",
    "application/problem+json": "ProblemDetails",
}
RATE_LIMIT_HEADER_REFS = {
    name: {"$ref": f"#/components/headers/{name}"} for name in ("RateLimit-Policy", "RateLimit")
}
# Record writes honour an idempotency key (trellis.api.idempotency).
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": (
        "Any unique string: a retry with the same key and body gets the first answer again "
        "(with `Idempotent-Replayed: true`) for 24 hours and writes nothing; the same key "
        "with another request is a 422, and while the first is still running a 409."
    ),
}


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


def parameter(name: str, where: str, schema: dict[str, Any], description: str) -> dict:
    return {
        "name": name,
        "in": where,
        "schema": schema,
        "required": where == "path",
        "description": description,
    }


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
    description: str | None = None,
) -> dict[str, Any]:
    """One operation; each error status it may answer refers to the one envelope. Without
    a ``description`` of its own, the summary and what every operation shares say it."""
    success: dict[str, Any] = {
        "description": http.HTTPStatus(status).phrase if isinstance(status, int) else "Success",
        # Every API answer says where its request budget stands (trellis.api.rate_limits).
        "headers": {**RATE_LIMIT_HEADER_REFS, **(headers or {})},
    }
    if schema is not None:
        success["content"] = {"application/json": {"schema": schema}}
    responses = {str(status): success}
    for error in sorted({401, 429, 500, *errors}):
        responses[str(error)] = {"$ref": f"#/components/responses/{ERRORS[error][0]}"}
    found: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": description or default_description(summary, errors),
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        found["parameters"] = parameters
    if body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return found


def default_description(summary: str, errors: tuple[int, ...]) -> str:
    statuses = ", ".join(str(status) for status in sorted({401, *errors}))
    return (
        f"{summary.rstrip('.')}. Errors ({statuses}) answer in the error envelope, or as "
        "problem details when `Accept` asks for `application/problem+json`."
    )


def error_responses(header_names: Iterable[str]) -> dict[str, Any]:
    """``components.responses``: one per error status, in both error media types, with
    the header fields (components) every answer carries; ``Retry-After`` only on 429s
    and the bearer challenge on 401s."""
    found: dict[str, Any] = {}
    for status, (name, description) in ERRORS.items():
        headers = {
            key: {"$ref": f"#/components/headers/{key}"}
            for key in header_names
            if key != "Retry-After" or status == 429
        }
        found[name] = {
            "description": description,
            "content": {
                media_type: {"schema": ref(schema)}
                for media_type, schema in ERROR_MEDIA_TYPES.items()
            },
            "headers": headers,
        }
    found[ERRORS[401][0]]["headers"]["WWW-Authenticate"] = {
        "required": True,
        "schema": TEXT,
        "description": 'The bearer challenge, e.g. `Bearer realm="trellis", '
        'error="invalid_token"` (the error when a token was sent but is not valid).',
    }
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
