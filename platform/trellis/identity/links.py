"""One-time sign-in links: an invitation for a new user, or a password reset an
administrator gives a user. Opening the link lets its user choose a password (under the
password policy) once, and signs them in.

A link reads ``<tenant id hex>.<secret>``: carrying the tenant lets the lookup run inside
that tenant's row-level-security scope, as API tokens do. Only the secret's SHA-256
digest is stored; it has 256 bits of entropy, so a fast digest is enough. A link is used
at most once, expires after :data:`LINK_DAYS`, and is void once a newer link is made for
its user or the user is deactivated.

Issuing a reset link takes the user's password away and ends their browser sessions:
whoever knew the old password (the reason for a reset, often) is out at once, and the
user is back in with the password they choose through the link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.actor import Actor
from trellis.errors import Conflict, NotFound
from trellis.identity.passwords import check_password, hash_password
from trellis.identity.tables import sign_in_links, tenants, user_sessions, users
from trellis.identity.tokens import digest
from trellis.identity.users import get_user

LINK_DAYS = 7
PURPOSES = ("invite", "reset")
LINK_PATTERN = re.compile(r"([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")


@dataclasses.dataclass(frozen=True)
class IssuedLink:
    """A link just made: its text (shown once, never stored) and when it expires."""

    token: str
    user: Row
    purpose: str
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class OpenLink:
    """A live link, as its user opens it."""

    id: uuid.UUID
    purpose: str
    user: Row
    tenant_slug: str
    expires_at: dt.datetime


def link_tenant(token: str) -> uuid.UUID | None:
    """The tenant a well-formed link names (its lookup must run in that tenant)."""
    match = LINK_PATTERN.fullmatch(token)
    return uuid.UUID(match.group(1)) if match is not None else None


def issue_link(
    connection: Connection, actor: Actor, user_id: uuid.UUID, purpose: str
) -> IssuedLink:
    """A new link of ``purpose`` for the user, voiding every earlier live one of theirs.

    A reset also clears the user's password and ends their browser sessions (API
    tokens are kept: revoke them separately, as with a password change)."""
    actor.require_right("manage_users")
    assert purpose in PURPOSES
    user = get_user(connection, user_id)
    if not user.active:
        raise Conflict(f"{user.email} is deactivated: reactivate them first.", code="user_inactive")
    void_links(connection, user.id)
    if purpose == "reset":
        connection.execute(users.update().where(users.c.id == user.id).values(password_hash=None))
        connection.execute(user_sessions.delete().where(user_sessions.c.user_id == user.id))
    token = f"{actor.tenant_id.hex}.{secrets.token_urlsafe(32)}"
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=LINK_DAYS)
    connection.execute(
        sign_in_links.insert().values(
            tenant_id=actor.tenant_id,
            user_id=user.id,
            purpose=purpose,
            secret_hash=digest(token),
            created_by=actor.user_id,
            expires_at=expires_at,
        )
    )
    return IssuedLink(token, user, purpose, expires_at)


def void_links(connection: Connection, user_id: uuid.UUID) -> int:
    """End the user's live links unused (a newer link, a deactivation)."""
    return connection.execute(
        sign_in_links.update()
        .where(sign_in_links.c.user_id == user_id, sign_in_links.c.used_at.is_(None))
        .values(used_at=sa.func.now(), voided=True)
    ).rowcount


def open_link(connection: Connection, token: str) -> OpenLink:
    """The live link ``token`` is, with its active user; NotFound for a link that is
    unknown, used, void or expired (the same answer for each: nothing to learn from it).
    ``connection`` is in the tenant :func:`link_tenant` names."""
    row = connection.execute(
        sa.select(
            sign_in_links.c.id.label("link_id"),
            sign_in_links.c.purpose,
            sign_in_links.c.expires_at.label("link_expires_at"),
            users,
            tenants.c.slug.label("tenant_slug"),
        )
        .join(
            users,
            sa.and_(
                users.c.tenant_id == sign_in_links.c.tenant_id,
                users.c.id == sign_in_links.c.user_id,
            ),
        )
        .join(tenants, tenants.c.id == sign_in_links.c.tenant_id)
        .where(
            sign_in_links.c.secret_hash == digest(token),
            sign_in_links.c.used_at.is_(None),
            sign_in_links.c.expires_at > sa.func.now(),
            users.c.active,
            tenants.c.active,
        )
    ).first()
    if row is None:
        raise NotFound(
            "This link has expired or was already used. Ask your administrator for a new one.",
            code="link_not_valid",
        )
    return OpenLink(row.link_id, row.purpose, row, row.tenant_slug, row.link_expires_at)


def redeem_link(connection: Connection, token: str, password: str) -> OpenLink:
    """Set the password of the link's user and use the link up, in one transaction: a
    second request with the same link (at the same moment, too) finds it used."""
    link = open_link(connection, token)
    check_password(password, "The password could not be set.")
    used = connection.execute(
        sign_in_links.update()
        .where(sign_in_links.c.id == link.id, sign_in_links.c.used_at.is_(None))
        .values(used_at=sa.func.now())
    ).rowcount
    if used != 1:
        raise NotFound("This link was already used.", code="link_not_valid")
    values: dict[str, object] = {"password_hash": hash_password(password)}
    if link.user.mfa_enabled_at is None:
        # Signed in by the link at once (with two-factor sign-in, the code step is that).
        values["last_login_at"] = sa.func.now()
    connection.execute(users.update().where(users.c.id == link.user.id).values(**values))
    connection.execute(user_sessions.delete().where(user_sessions.c.user_id == link.user.id))
    return link


def pending_links(connection: Connection) -> dict[uuid.UUID, Row]:
    """The live link of each user who has one (an invitation not yet accepted, a reset
    not yet used), by user id."""
    rows = connection.execute(
        sa.select(sign_in_links).where(
            sign_in_links.c.used_at.is_(None), sign_in_links.c.expires_at > sa.func.now()
        )
    )
    return {row.user_id: row for row in rows}
