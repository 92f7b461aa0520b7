"""Browser sessions, stored server-side so that logging out really ends them.

The signed cookie carries the tenant id and a random secret; the table keeps only
the secret's digest, so a leaked table cannot be replayed as cookies.

A user with two-factor sign-in gets a *pending* row at the password step: it lives a
few minutes, authenticates no request, and only :func:`complete_pending` (after a good
code) turns it into a session, under a new secret.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import Flask, Request, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy.engine import Connection, Row

from trellis.actor import Actor
from trellis.db import Database, driver_execute
from trellis.identity.api_policy import API_POLICY_COLUMNS, api_policy
from trellis.identity.tables import tenants, user_sessions, users
from trellis.identity.tenants import note_list_views_stamp
from trellis.identity.tokens import digest
from trellis.identity.users import ACTOR_COLUMNS, actor_for
from trellis.metadata.compiled import note_revision, revision_key_columns


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened without building its signer (or parsing
    cookies, when there are none) if the request has no session cookie: API calls with a
    token, first visits."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies
        ):
            return self.session_class()
        try:
            return super().open_session(app, request)
        except (TypeError, ValueError):
            # Correctly signed but not a mapping (or a tagged value that does not parse): as
            # with a bad signature, the request simply has no session.
            return self.session_class()

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured so, and whenever the request came over HTTPS (seen
        through a trusted proxy's X-Forwarded-Proto only where ``trusted_proxy`` is on):
        a cookie set over TLS is never sent back in the clear."""
        configured = super().get_cookie_secure(app)
        return configured or (has_request_context() and request.is_secure)


def cookie_session_ids(data: Mapping[str, Any]) -> tuple[str, uuid.UUID] | None:
    """The session secret and tenant id a session cookie carries, or None when either is
    missing or malformed: a signed cookie is ours, but not necessarily well formed (an
    older format, a reused key), and a malformed one is no session rather than an error."""
    secret, tenant_id = data.get("sid"), data.get("tid")
    if not isinstance(secret, str) or not secret or not isinstance(tenant_id, str):
        return None
    try:
        return secret, uuid.UUID(tenant_id)
    except ValueError:
        return None


PENDING_MINUTES = 5


def start_session(
    connection: Connection,
    user: Row,
    *,
    hours: int,
    client_address: str | None,
    user_agent: str | None,
    pending: bool = False,
) -> str:
    """A new session (or, with ``pending``, the password step of a two-factor sign-in)
    for ``user``; return the secret its cookie carries."""
    secret = secrets.token_urlsafe(32)
    lifetime = dt.timedelta(minutes=PENDING_MINUTES) if pending else dt.timedelta(hours=hours)
    connection.execute(
        user_sessions.insert().values(
            tenant_id=user.tenant_id,
            user_id=user.id,
            secret_hash=digest(secret),
            expires_at=dt.datetime.now(dt.UTC) + lifetime,
            client_address=client_address,
            user_agent=(user_agent or "")[:400],
            mfa_pending=pending,
        )
    )
    return secret


def lookup_pending(connection: Connection, secret: str) -> Row | None:
    """The user (with ``pending_id``, the row's id) of a live pending sign-in."""
    return connection.execute(
        sa.select(
            users, user_sessions.c.id.label("pending_id"), tenants.c.slug.label("tenant_slug")
        )
        .join(
            user_sessions,
            sa.and_(
                user_sessions.c.tenant_id == users.c.tenant_id,
                user_sessions.c.user_id == users.c.id,
            ),
        )
        .join(tenants, tenants.c.id == users.c.tenant_id)
        .where(
            user_sessions.c.secret_hash == digest(secret),
            user_sessions.c.mfa_pending,
            user_sessions.c.expires_at > sa.func.now(),
            users.c.active,
            tenants.c.active,
        )
    ).first()


def complete_pending(connection: Connection, pending_id: uuid.UUID, *, hours: int) -> str | None:
    """Turn a pending sign-in whose code was accepted into a session, under a new
    secret; None if it was completed (or ended) meanwhile."""
    secret = secrets.token_urlsafe(32)
    completed = connection.execute(
        user_sessions.update()
        .where(user_sessions.c.id == pending_id, user_sessions.c.mfa_pending)
        .values(
            secret_hash=digest(secret),
            mfa_pending=False,
            mfa_verified_at=sa.func.now(),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours),
        )
    )
    return secret if completed.rowcount == 1 else None


# Built once, as the token lookup is: it runs on every screen request.
_LOOKUP = (
    sa.select(
        *ACTOR_COLUMNS,
        tenants.c.slug,
        tenants.c.require_mfa,
        *API_POLICY_COLUMNS,
        tenants.c.list_views_stamp,
        users.c.mfa_enabled_at,
        user_sessions.c.id.label("session_id"),
    )
    .join(
        user_sessions,
        sa.and_(
            user_sessions.c.tenant_id == users.c.tenant_id,
            user_sessions.c.user_id == users.c.id,
        ),
    )
    .join(tenants, tenants.c.id == users.c.tenant_id)
    .where(
        user_sessions.c.secret_hash == sa.bindparam("secret_hash"),
        user_sessions.c.expires_at > sa.func.now(),
        sa.not_(user_sessions.c.mfa_pending),
        sa.or_(users.c.mfa_enabled_at.is_(None), user_sessions.c.mfa_verified_at.isnot(None)),
        users.c.active,
        tenants.c.active,
    )
    # Every screen reads the tenant's metadata revision next: one statement, not two.
    .add_columns(*revision_key_columns(users.c.tenant_id))
)


def lookup_session(connection: Connection, secret: str) -> Actor | None:
    """The actor of a live browser session; ``connection`` is in the cookie's tenant.

    A session of a user with two-factor sign-in counts only if it was verified with a
    code (a pending row never does); a session of a user without it, in a tenant that
    requires it, is marked as allowed to enrol and nothing else."""
    row = driver_execute(connection, _LOOKUP, {"secret_hash": digest(secret)}).fetchone()
    if row is None:
        return None
    note_revision(connection, row.tenant_id, row.metadata_revision, row.metadata_revision_at)
    note_list_views_stamp(connection, row.tenant_id, row.list_views_stamp)
    return actor_for(
        row,
        row.slug,
        session_id=row.session_id,
        mfa_enrolment_required=row.require_mfa and row.mfa_enabled_at is None,
        api_policy=api_policy(row),
    )


def end_session(database: Database, tenant_id: uuid.UUID, secret: str) -> None:
    with database.tenant(tenant_id) as connection:
        connection.execute(
            user_sessions.delete().where(user_sessions.c.secret_hash == digest(secret))
        )
