"""The tenant-independent parts of the OpenAPI document: the shared schemas and the
static (non-object) endpoints. :mod:`trellis.api.openapi` adds the per-object parts."""

from __future__ import annotations

from typing import Any

from trellis.actor import TOKEN_SCOPES
from trellis.api import (
    automation_trigger,
    openapi_access,
    openapi_audit,
    openapi_automations,
    openapi_imports,
    openapi_limits,
    openapi_mfa,
    openapi_privacy,
    openapi_search,
    openapi_webhooks,
)
from trellis.api.openapi_limits import RATE_LIMIT, token_change_operation
from trellis.api.openapi_meta import definition_schemas, meta_paths, revision_schemas
from trellis.api.openapi_schema import (
    AUTH,
    BOOLEAN,
    INTEGER,
    MOMENT,
    OPTIONAL_MOMENT,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    TEXT,
    UUID,
    WRITE,
    array,
    data_of,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.api.openapi_webhook_events import event_schema
from trellis.metadata.field_types import FieldTypeRegistry


def static_schemas(registry: FieldTypeRegistry) -> dict[str, Any]:
    """Every component schema that does not depend on the tenant's objects."""
    scopes = array({"enum": list(TOKEN_SCOPES)}, uniqueItems=True)
    messages = {"type": "object", "additionalProperties": array(TEXT)}
    return {
        **error_schemas(messages),
        "Actor": shape(
            {
                "tenant": shape({"id": UUID, "slug": TEXT}, ["id", "slug"]),
                "user": shape({"id": OPTIONAL_UUID, "email": OPTIONAL_TEXT}, ["id", "email"]),
                "roles": array(TEXT),
                "role": {**OPTIONAL_TEXT, "description": "The user's place in the role hierarchy."},
                "permission_sets": array(TEXT),
                "token": {
                    "anyOf": [
                        {"type": "null"},
                        shape({"id": UUID, "scopes": scopes}, ["id", "scopes"]),
                    ]
                },
            },
            ["tenant", "user", "roles", "role", "permission_sets", "token"],
        ),
        **token_schemas(scopes),
        **openapi_mfa.openapi_schemas(),
        **definition_schemas(registry),
        **openapi_webhooks.openapi_schemas(),
        "WebhookEvent": event_schema(),
        **openapi_audit.openapi_schemas(),
        **openapi_search.openapi_schemas(),
        **openapi_access.openapi_schemas(),
        **openapi_privacy.openapi_schemas(),
        **openapi_automations.openapi_schemas(),
        **openapi_imports.openapi_schemas(),
        **openapi_limits.openapi_schemas(),
        **revision_schemas(),
        **record_schemas(messages),
    }


def error_schemas(messages: dict[str, Any]) -> dict[str, Any]:
    """The error envelope, and the same fields as RFC 9457 problem details."""
    envelope = {
        "ok": {"const": False},
        "status": INTEGER,
        "code": {**TEXT, "description": "What went wrong, for programs: `validation_error`..."},
        "error": {**TEXT, "description": "What went wrong, for people."},
        "errors": {**messages, "description": "Messages by field, as forms show them."},
        "request_id": OPTIONAL_TEXT,
    }
    problem = {
        "type": {**TEXT, "description": "`about:blank`: `status` and `code` say what happened."},
        "title": {**TEXT, "description": "The status's phrase, e.g. `Not Found`."},
        "detail": {**TEXT, "description": "The same as `error`."},
        "instance": {**TEXT, "description": "The path of the request that failed."},
    }
    return {
        "ErrorEnvelope": shape(envelope, envelope, closed=False),
        "ProblemDetails": shape(
            {**problem, **envelope},
            [*problem, *envelope],
            closed=False,
            description="The error envelope as problem details (RFC 9457), for clients "
            "whose Accept prefers application/problem+json; the envelope's fields are "
            "extension members.",
        ),
    }


def token_schemas(scopes: dict[str, Any]) -> dict[str, Any]:
    """An API token as listed, as created (with the token, once), and the create body."""
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
        "rate_limit": {
            "type": ["integer", "null"],
            "description": "Requests a minute of its own; null: the workspace's.",
        },
    }
    return {
        "Token": shape(token, token),
        "NewToken": shape(
            {**token, "token": {**TEXT, "description": "Shown only once."}}, [*token, "token"]
        ),
        "TokenInput": shape(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "scopes": scopes,
                "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650},
                "rate_limit": {
                    **RATE_LIMIT,
                    "description": "Requests a minute of its own (null: the workspace's); "
                    "above the creator's own budget only for an administrator.",
                },
            },
            ["name"],
        ),
    }


def record_schemas(messages: dict[str, Any]) -> dict[str, Any]:
    """What every object's records endpoints share: history entries and bulk results."""
    return {
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
                "created": {
                    **BOOLEAN,
                    "description": "upsert: true when the record was created, false updated.",
                },
                "status": INTEGER,
                "code": TEXT,
                "error": TEXT,
                "errors": {**messages, "type": ["object", "null"]},
            },
            ["index", "ok"],
        ),
    }


def static_paths() -> dict[str, dict[str, Any]]:
    """The endpoints every tenant has: the actor, two-factor sign-in, API tokens, the
    workspace's security settings, the metadata API, webhooks, manual automation runs."""
    package = {"type": "object"}
    return {
        "/me": {"get": operation("getMe", "The authenticated actor", AUTH, 200, ref("Actor"))},
        **openapi_webhooks.openapi_paths(),
        **openapi_audit.openapi_paths(),
        **openapi_search.openapi_paths(),
        **openapi_access.openapi_paths(),
        **openapi_privacy.openapi_paths(),
        **automation_trigger.openapi_paths(),
        **openapi_automations.openapi_paths(),
        **openapi_imports.openapi_paths(),
        **openapi_limits.openapi_paths(),
        "/openapi.json": {
            "get": operation(
                "getOpenApiDocument",
                "This document",
                AUTH,
                200,
                package,
                description="The OpenAPI 3.1 document of this workspace, generated from its "
                "current metadata as the caller may see it: a field added a moment ago is in it.",
            )
        },
        **token_paths(),
        **openapi_mfa.openapi_paths(),
        **meta_paths(),
    }


def token_paths() -> dict[str, dict[str, Any]]:
    """``/tokens``: list, create and revoke API tokens."""
    return {
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
                parameters=[parameter("token_id", "path", UUID, "The token's id.")],
            ),
            "patch": token_change_operation(),
        },
    }
