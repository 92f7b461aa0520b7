"""API tokens: shown once, stored as a SHA-256 digest, scoped, revocable, with last use.

A token reads ``trl_<tenant id hex>_<secret>``. Carrying the tenant lets the lookup
run inside that tenant's row-level-security scope like every other query; the
secret has 256 bits of entropy, so a fast digest is the right storage (a slow
password hash would only cost CPU on every request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.actor import TOKEN_SCOPES, Actor
from trellis.db import driver_execute
from trellis.errors import NotFound, ValidationError
from trellis.identity.api_policy import API_POLICY_COLUMNS, api_policy
from trellis.identity.tables import api_tokens, tenants, users
from trellis.identity.users import ACTOR_COLUMNS, actor_for, get_user
from trellis.metadata.compiled import note_revision, revision_key_columns

TOKEN_PATTERN = re.compile(r"trl_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")
# Writing last_used_at on every request would turn reads into writes; a minute's
# precision is what an administrator needs to spot an unused token.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_token(
    connection: Connection,
    actor: Actor,
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: Iterable[str] = TOKEN_SCOPES,
    expires_at: dt.datetime | None = None,
    rate_limit: int | None = None,
) -> tuple[str, Row]:
    """Create a token for a user; return the plaintext (shown once) and the stored row."""
    if actor.user_id != user_id:
        actor.require_right("manage_users")
    scopes = sorted(set(scopes))
    unknown = set(scopes) - set(TOKEN_SCOPES)
    if unknown or not scopes:
        raise ValidationError(
            "Unknown or missing token scopes.",
            fields={"scopes": f"Choose from {', '.join(TOKEN_SCOPES)}."},
        )
    if not name or len(name) > 200:
        raise ValidationError("A token needs a name.", fields={"name": "1–200 characters."})
    get_user(connection, user_id)
    token = f"trl_{actor.tenant_id.hex}_{secrets.token_urlsafe(32)}"
    row = connection.execute(
        api_tokens.insert()
        .values(
            tenant_id=actor.tenant_id,
            user_id=user_id,
            name=name,
            token_hash=digest(token),
            prefix=token[:12],
            scopes=scopes,
            expires_at=expires_at,
            rate_limit=rate_limit,
        )
        .returning(*api_tokens.c)
    ).one()
    return token, row


def token_tenant(token: str) -> uuid.UUID | None:
    """The tenant a well-formed token names (its lookup must run in that tenant)."""
    match = TOKEN_PATTERN.fullmatch(token)
    return uuid.UUID(match.group(1)) if match is not None else None


# Built once: the lookup runs on every API request, and building a statement costs more
# Python than executing its cached compiled form.
_LOOKUP = (
    sa.select(
        *ACTOR_COLUMNS,
        api_tokens.c.id.label("token_id"),
        api_tokens.c.scopes.label("token_scopes"),
        api_tokens.c.last_used_at.label("token_last_used_at"),
        api_tokens.c.rate_limit.label("token_rate_limit"),
        tenants.c.slug,
        *API_POLICY_COLUMNS,
    )
    .join(
        users,
        sa.and_(users.c.tenant_id == api_tokens.c.tenant_id, users.c.id == api_tokens.c.user_id),
    )
    .join(tenants, tenants.c.id == api_tokens.c.tenant_id)
    .where(
        api_tokens.c.token_hash == sa.bindparam("token_hash"),
        api_tokens.c.revoked_at.is_(None),
        sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > sa.func.now()),
        users.c.active,
        tenants.c.active,
    )
    # Every API request reads the tenant's metadata revision next: one statement, not two.
    .add_columns(*revision_key_columns(api_tokens.c.tenant_id))
)


def lookup_token(connection: Connection, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None if it is unknown, revoked or expired.

    ``connection`` is in the tenant :func:`token_tenant` names."""
    row = driver_execute(connection, _LOOKUP, {"token_hash": digest(token)}).fetchone()
    if row is None:
        return None
    note_revision(connection, row.tenant_id, row.metadata_revision, row.metadata_revision_at)
    now = dt.datetime.now(dt.UTC)
    last_used = row.token_last_used_at
    if last_used is None or now - last_used > LAST_USED_PRECISION:
        connection.execute(
            api_tokens.update()
            .where(api_tokens.c.id == row.token_id)
            .values(last_used_at=sa.func.now())
        )
    return actor_for(
        row,
        row.slug,
        token_id=row.token_id,
        scopes=row.token_scopes,
        api_policy=api_policy(row, row.token_rate_limit),
    )


def list_tokens(connection: Connection, actor: Actor) -> list[Row]:
    query = sa.select(*[c for c in api_tokens.c if c.name != "token_hash"])
    if not actor.is_admin:
        query = query.where(api_tokens.c.user_id == actor.user_id)
    return list(connection.execute(query.order_by(api_tokens.c.created_at)))


def revoke_token(connection: Connection, actor: Actor, token_id: uuid.UUID) -> None:
    query = api_tokens.update().where(
        api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None)
    )
    if not actor.is_admin:
        query = query.where(api_tokens.c.user_id == actor.user_id)
    if connection.execute(query.values(revoked_at=sa.func.now())).rowcount != 1:
        raise NotFound("No such active token.")


def set_token_rate_limit(
    connection: Connection, actor: Actor, token_id: uuid.UUID, rate_limit: int | None
) -> tuple[int | None, Row]:
    """Set an active token's own requests per minute (None: its tenant's); return the
    previous value and the token's row. Only an administrator reaches others' tokens."""
    query = sa.select(api_tokens.c.rate_limit).where(
        api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None)
    )
    if not actor.is_admin:
        query = query.where(api_tokens.c.user_id == actor.user_id)
    previous = connection.execute(query.with_for_update()).first()
    if previous is None:
        raise NotFound("No such active token.")
    row = connection.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id)
        .values(rate_limit=rate_limit)
        .returning(*[c for c in api_tokens.c if c.name != "token_hash"])
    ).one()
    return previous.rate_limit, row
