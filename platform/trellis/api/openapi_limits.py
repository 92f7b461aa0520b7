"""The OpenAPI description of request budgets, browser origins and incremental sync:
the RateLimit header fields every answer carries, ``/tenant/api-settings``, a token's own
limit (``PATCH /tokens/{token_id}``) and an object's deleted-record tombstones."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    AUTH,
    INTEGER,
    MOMENT,
    OPTIONAL_TEXT,
    READ,
    TEXT,
    UUID,
    WRITE,
    array,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.identity.api_policy import MAX_CORS_ORIGINS, MAX_RATE_LIMIT
from trellis.records.query import DEFAULT_LIMIT, MAX_LIMIT

RATE_LIMIT = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_RATE_LIMIT}
# Every answer's header fields (draft-ietf-httpapi-ratelimit-headers), as components.
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The budget this request spends, e.g. `"default";q=1000;w=60`: '
        "`q` requests per `w` seconds. The policy is `token` when the API token has a "
        "limit of its own.",
        "schema": TEXT,
    },
    "RateLimit": {
        "description": 'Where the budget stands, e.g. `"default";r=998;t=1`: `r` requests '
        "left, `t` seconds until the budget is whole again (or, once spent, until the next "
        "request is allowed). Absent when the limit could not be checked.",
        "schema": TEXT,
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying (429 and 503 answers).",
        "schema": INTEGER,
    },
}


def openapi_schemas() -> dict[str, Any]:
    settings = {
        "rate_limit": {
            **RATE_LIMIT,
            "description": "Requests a minute of each API token and signed-in user; null: "
            "the deployment's default.",
        },
        "cors_origins": array(
            {**TEXT, "description": "An exact origin, e.g. https://app.example.com."},
            maxItems=MAX_CORS_ORIGINS,
            description="Browser origins allowed to call the API (CORS); none by default.",
        ),
    }
    return {
        "TenantApiSettings": shape(
            {
                **settings,
                "default_rate_limit": {**INTEGER, "description": "The deployment's default."},
                "rate_limit_window_seconds": INTEGER,
            },
            [*settings, "default_rate_limit", "rate_limit_window_seconds"],
        ),
        "TenantApiSettingsChange": shape(settings, minProperties=1),
        "TokenChange": shape(
            {"rate_limit": {**RATE_LIMIT, "description": "null: the workspace's."}},
            ["rate_limit"],
        ),
        "Tombstone": shape({"id": UUID, "deleted_at": MOMENT}, ["id", "deleted_at"]),
        "TombstonePage": shape(
            {"data": array(ref("Tombstone")), "next_cursor": OPTIONAL_TEXT},
            ["data", "next_cursor"],
        ),
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    settings = ref("TenantApiSettings")
    return {
        "/tenant/api-settings": {
            "get": operation(
                "getTenantApiSettings",
                "The workspace's API budget and allowed origins",
                AUTH,
                200,
                settings,
                errors=(403,),
            ),
            "patch": operation(
                "updateTenantApiSettings",
                "Change the workspace's API budget and allowed origins (administrators)",
                AUTH,
                200,
                settings,
                errors=WRITE,
                body=ref("TenantApiSettingsChange"),
            ),
        }
    }


def token_change_operation() -> dict[str, Any]:
    return operation(
        "updateToken",
        "Give an API token its own rate limit (above the workspace's: administrators)",
        AUTH,
        200,
        ref("Token"),
        errors=WRITE,
        parameters=[parameter("token_id", "path", UUID, "The token's id.")],
        body=ref("TokenChange"),
    )


def tombstone_operation(tag: str, title: str) -> dict[str, Any]:
    found = operation(
        f"list{title}Tombstones",
        "Deleted records (for incremental sync)",
        tag,
        200,
        ref("TombstonePage"),
        errors=READ,
        parameters=[
            parameter("since", "query", MOMENT, "Only records deleted after this time."),
            parameter("cursor", "query", TEXT, "The previous page's next_cursor."),
            parameter(
                "limit",
                "query",
                {**INTEGER, "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                "Records per page.",
            ),
        ],
    )
    found["description"] = (
        "The records of this object in the recycle bin that the caller may read, oldest "
        "deletion first. Sync: list records with `updated_at__gte=<last sync>` and "
        "`sort=updated_at`, then these with `since=<last sync>`; delete them locally. "
        "A restored record leaves this list and shows up again among the changed ones."
    )
    return found
