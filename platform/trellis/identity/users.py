"""Users of a tenant: creation, listing, password resets and deactivation by an
administrator, and password authentication."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.actor import Actor, ApiPolicy
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.identity.passwords import (
    check_password,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from trellis.identity.tables import api_tokens, sign_in_links, user_sessions, users
from trellis.metadata.access_documents import STANDARD_USER, AccessMetadata

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ROLE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,40}")


def create_user(
    connection: Connection,
    actor: Actor,
    *,
    email: str,
    password: str | None,
    display_name: str = "",
    roles: Iterable[str] = (),
) -> Row:
    actor.require_right("manage_users")
    email = (email or "").strip()
    roles = sorted(set(roles))
    errors: dict[str, str] = {}
    if not EMAIL_PATTERN.fullmatch(email) or len(email) > 254:
        errors["email"] = "Enter a valid email address."
    problem = password_problem(password) if password is not None else None
    if problem is not None:
        errors["password"] = problem
    if any(not ROLE_PATTERN.fullmatch(role) for role in roles):
        errors["roles"] = "Role names are lowercase letters, digits and underscores."
    if errors:
        raise ValidationError("The user could not be created.", fields=errors)
    if find_user(connection, email) is not None:
        raise Conflict(
            f"A user with email {email} already exists.", fields={"email": "Already in use."}
        )
    return connection.execute(
        users.insert()
        .values(
            tenant_id=actor.tenant_id,
            email=email,
            display_name=display_name or email,
            password_hash=hash_password(password) if password else None,
            roles=roles,
            # Not an administrator: read, create and edit on every object, within sharing.
            permission_sets=[] if "admin" in roles else [STANDARD_USER],
        )
        .returning(*users.c)
    ).one()


def find_user(connection: Connection, email: str) -> Row | None:
    return connection.execute(
        sa.select(users).where(sa.func.lower(users.c.email) == email.strip().lower())
    ).first()


def require_user(connection: Connection, email: str) -> Row:
    """The user with this email in the current tenant; NotFound if there is none."""
    user = find_user(connection, email)
    if user is None:
        raise NotFound(f"No user {email.strip()} in this tenant.", code="unknown_user")
    return user


def list_users(connection: Connection) -> list[Row]:
    """Every user of the current tenant, active or not, by email."""
    return list(connection.execute(sa.select(users).order_by(sa.func.lower(users.c.email))))


def set_password(connection: Connection, actor: Actor, email: str, password: str) -> Row:
    """Give a user a new password and end their browser sessions (whoever knew the old
    one may be signed in); API tokens are kept, revoke them separately."""
    actor.require_right("manage_users")
    user = require_user(connection, email)
    check_password(password, "The password could not be changed.")
    connection.execute(
        users.update().where(users.c.id == user.id).values(password_hash=hash_password(password))
    )
    _end_sessions(connection, user.id)
    return user


def deactivate_user(connection: Connection, actor: Actor, email: str) -> tuple[Row, int, int]:
    """Stop a user from signing in, end their browser sessions and revoke their API
    tokens; return the user and how many sessions and tokens were ended.

    Sign-in and both lookups already ignore inactive users; deleting the sessions and
    revoking the tokens as well keeps the token list truthful, and a user made active
    again later does not find old credentials working again."""
    actor.require_right("manage_users")
    user = require_user(connection, email)
    if user.id == actor.user_id:
        # Nobody locks themselves out: another administrator does it, if it must be done.
        raise Conflict("You cannot deactivate your own account.", code="own_account")
    connection.execute(users.update().where(users.c.id == user.id).values(active=False))
    sessions = _end_sessions(connection, user.id)
    # A link handed out before (an invitation, a reset) must not bring them back.
    connection.execute(
        sign_in_links.update()
        .where(sign_in_links.c.user_id == user.id, sign_in_links.c.used_at.is_(None))
        .values(used_at=sa.func.now(), voided=True)
    )
    tokens = connection.execute(
        api_tokens.update()
        .where(api_tokens.c.user_id == user.id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    ).rowcount
    return user, sessions, tokens


def reactivate_user(connection: Connection, actor: Actor, email: str) -> Row:
    """Let a deactivated user sign in again, with their password as it was; the sessions
    and API tokens ended at deactivation stay ended."""
    actor.require_right("manage_users")
    user = require_user(connection, email)
    return connection.execute(
        users.update().where(users.c.id == user.id).values(active=True).returning(*users.c)
    ).one()


def _end_sessions(connection: Connection, user_id: uuid.UUID) -> int:
    return connection.execute(
        user_sessions.delete().where(user_sessions.c.user_id == user_id)
    ).rowcount


def get_user(connection: Connection, user_id: uuid.UUID) -> Row:
    row = connection.execute(sa.select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound("No such user.")
    return row


def authenticate(connection: Connection, email: str, password: str) -> Row | None:
    """The active user with this email and password in the current tenant, else None."""
    user = find_user(connection, email)
    hash_ = user.password_hash if user is not None and user.active else None
    if not verify_password(hash_, password):
        return None
    assert user is not None
    values: dict = {"last_login_at": sa.func.now()}
    if needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)
    connection.execute(users.update().where(users.c.id == user.id).values(**values))
    return user


# The user columns an Actor is made of (lookups on every request select just these).
ACTOR_COLUMNS = (
    users.c.tenant_id,
    users.c.id,
    users.c.email,
    users.c.roles,
    users.c.role,
    users.c.permission_sets,
)


def user_actor(
    connection: Connection, user_id: uuid.UUID, tenant_slug: str, access: AccessMetadata
) -> Actor | None:
    """The active user ``user_id`` as an actor with their system rights, as they would be
    signed in (automations running as their owner, webhooks of a user's subscription)."""
    user = connection.execute(
        sa.select(*ACTOR_COLUMNS).where(users.c.id == user_id, users.c.active)
    ).first()
    return None if user is None else with_system_rights(actor_for(user, tenant_slug), access)


def with_system_rights(actor: Actor, access: AccessMetadata) -> Actor:
    """The actor with the system rights their permission sets grant."""
    if not actor.permission_sets:
        return actor
    return dataclasses.replace(actor, rights=access.system_rights(actor.permission_sets))


def actor_for(
    user: Row,
    tenant_slug: str,
    *,
    token_id: uuid.UUID | None = None,
    scopes: Iterable[str] | None = None,
    session_id: uuid.UUID | None = None,
    mfa_enrolment_required: bool = False,
    api_policy: ApiPolicy | None = None,
) -> Actor:
    roles = tuple(user.roles)
    return Actor(
        tenant_id=user.tenant_id,
        tenant_slug=tenant_slug,
        user_id=user.id,
        email=user.email,
        roles=roles,
        role=user.role,
        permission_sets=tuple(user.permission_sets),
        token_id=token_id,
        scopes=tuple(scopes) if scopes is not None else None,
        session_id=session_id,
        mfa_enrolment_required=mfa_enrolment_required,
        api_policy=api_policy or ApiPolicy(),
    )
