"""A tenant's API settings: the requests a minute its tokens and users may make and the
browser origins allowed to call its API (CORS), as the admin API and Setup change them
and as every request's token or session lookup reads them (no extra query)."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.actor import Actor, ApiPolicy
from trellis.errors import ValidationError
from trellis.identity.tables import tenants

# What the token and session lookups read of the tenant's API settings (no extra query).
API_POLICY_COLUMNS = (
    tenants.c.api_rate_limit.label("tenant_rate_limit"),
    tenants.c.cors_origins.label("tenant_cors_origins"),
)


def api_policy(row: Row, token_rate_limit: int | None = None) -> ApiPolicy:
    """The :class:`ApiPolicy` of a lookup row carrying :data:`API_POLICY_COLUMNS`."""
    return ApiPolicy(
        requests_per_minute=token_rate_limit or row.tenant_rate_limit,
        token_override=token_rate_limit is not None,
        cors_origins=tuple(row.tenant_cors_origins),
    )


MAX_RATE_LIMIT = 1_000_000
MAX_CORS_ORIGINS = 50
ORIGIN_PATTERN = re.compile(
    r"https?://(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?"
)


def checked_rate_limit(value: object, field: str = "rate_limit") -> int | None:
    """A requests-per-minute budget as sent (a whole number, or null for the default)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_RATE_LIMIT:
        raise ValidationError(
            "Invalid rate limit.",
            fields={field: f"Requests a minute: a whole number, 1–{MAX_RATE_LIMIT}, or null."},
        )
    return value


def checked_origins(value: object) -> list[str]:
    """Browser origins as sent: exact ``scheme://host[:port]`` values, no wildcard."""
    if not isinstance(value, list) or len(value) > MAX_CORS_ORIGINS:
        raise ValidationError(
            "Invalid origins.",
            fields={"cors_origins": f"A list of at most {MAX_CORS_ORIGINS} origins."},
        )
    origins: list[str] = []
    for index, origin in enumerate(value):
        normal = origin.strip().lower().rstrip("/") if isinstance(origin, str) else ""
        if not ORIGIN_PATTERN.fullmatch(normal):
            raise ValidationError(
                "Invalid origin.",
                fields={
                    f"cors_origins.{index}": "An origin such as https://app.example.com "
                    "(scheme, host and port only; no path or wildcard)."
                },
            )
        if normal not in origins:
            origins.append(normal)
    return origins


def api_settings(connection: Connection, tenant_id: uuid.UUID) -> dict:
    """The tenant's API settings as the admin API shows them."""
    row = connection.execute(
        sa.select(tenants.c.api_rate_limit, tenants.c.cors_origins).where(tenants.c.id == tenant_id)
    ).one()
    return {"rate_limit": row.api_rate_limit, "cors_origins": list(row.cors_origins)}


def set_api_settings(connection: Connection, actor: Actor, changes: dict) -> dict:
    """Change the tenant's ``rate_limit`` and/or ``cors_origins``; return the settings
    before the change."""
    actor.require_admin()
    values: dict = {}
    if "rate_limit" in changes:
        values["api_rate_limit"] = checked_rate_limit(changes["rate_limit"])
    if "cors_origins" in changes:
        values["cors_origins"] = checked_origins(changes["cors_origins"])
    # tenants has no row-level security (it is the platform's table): the id is explicit.
    connection.execute(
        sa.select(tenants.c.id).where(tenants.c.id == actor.tenant_id).with_for_update()
    )
    previous = api_settings(connection, actor.tenant_id)
    if values:
        connection.execute(tenants.update().where(tenants.c.id == actor.tenant_id).values(values))
    return previous


def origin_allowed_anywhere(connection: Connection, origin: str) -> bool:
    """Whether any active tenant lets ``origin`` call the API (a CORS preflight carries no
    credentials, so it cannot say which tenant it is for)."""
    return bool(
        connection.execute(
            sa.select(
                sa.exists().where(
                    tenants.c.active, sa.literal(origin) == sa.any_(tenants.c.cors_origins)
                )
            )
        ).scalar()
    )
