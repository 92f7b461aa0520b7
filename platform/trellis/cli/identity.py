"""``trellis tenant``, ``trellis user`` and ``trellis token``: who may use a deployment.

The commands are thin: the rules (validation, what deactivating a user ends) live in
trellis.identity, which the web API uses as well.
"""

from __future__ import annotations

import sys
import uuid

import click
from flask.cli import AppGroup

from trellis.access.audit import record_audit
from trellis.actor import TOKEN_SCOPES
from trellis.cli.base import app_state, tenant_transaction
from trellis.cli.output import echo_listing, json_option
from trellis.records.users import sync_users


@click.group("tenant", cls=AppGroup)
def tenant_group() -> None:
    """Manage tenants."""


@tenant_group.command("create")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (default: the slug).")
def tenant_create(slug: str, name: str | None) -> None:
    """Create a tenant."""
    from trellis.identity.tenants import create_tenant

    with app_state().database.owner() as connection:
        tenant = create_tenant(connection, slug, name)
    click.echo(f"Created tenant {tenant.slug} ({tenant.id}).")


@tenant_group.command("list")
@json_option
def tenant_list(as_json: bool) -> None:
    """List every tenant."""
    from trellis.identity.tenants import list_tenants

    with app_state().database.platform() as connection:
        rows = [row._mapping for row in list_tenants(connection)]
    echo_listing(rows, ("slug", "name", "active", "created_at", "id"), as_json)


@tenant_group.command("require-mfa")
@click.argument("slug")
@click.option(
    "--on/--off",
    "required",
    required=True,
    help="Require two-factor sign-in of every user, or stop requiring it.",
)
def tenant_require_mfa(slug: str, required: bool) -> None:
    """Require two-factor sign-in of a tenant's users (those without it may only enrol)."""
    from trellis.identity.tenants import set_require_mfa

    with tenant_transaction(slug) as (connection, actor):
        previous = set_require_mfa(connection, actor, required)
        if previous != required:
            record_audit(
                connection,
                actor,
                "tenant.mfa_required_changed",
                target_type="tenant",
                target_id=actor.tenant_id,
                details={"require_mfa": required, "via": "cli"},
            )
    state = "now requires" if required else "no longer requires"
    click.echo(f"Tenant {slug} {state} two-factor sign-in.")


@click.group("user", cls=AppGroup)
def user_group() -> None:
    """Manage users."""


_TENANT = click.option("--tenant", "tenant_slug", required=True, help="The tenant's slug.")


@user_group.command("create")
@_TENANT
@click.option("--email", required=True)
@click.option("--password", default=None, help="Omit for a user who signs in by token only.")
@click.option("--name", default="", help="Display name.")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
def user_create(tenant_slug: str, email: str, password: str | None, name: str, admin: bool) -> None:
    """Create a user in a tenant."""
    from trellis.identity.users import create_user

    with tenant_transaction(tenant_slug) as (connection, actor):
        user = create_user(
            connection,
            actor,
            email=email,
            password=password,
            display_name=name,
            roles=["admin"] if admin else [],
        )
        sync_users(connection, app_state().metadata_cache, actor.tenant_id, actor.tenant_slug)
    click.echo(f"Created user {user.email} ({user.id}).")


@user_group.command("list")
@_TENANT
@json_option
def user_list(tenant_slug: str, as_json: bool) -> None:
    """List a tenant's users."""
    from trellis.identity.users import list_users

    with tenant_transaction(tenant_slug) as (connection, _):
        rows = [row._mapping for row in list_users(connection)]
    columns = ("email", "display_name", "roles", "active", "created_at", "last_login_at", "id")
    echo_listing(rows, columns, as_json)


@user_group.command("deactivate")
@_TENANT
@click.argument("email")
def user_deactivate(tenant_slug: str, email: str) -> None:
    """Stop a user from signing in; their sessions end and their API tokens are revoked."""
    from trellis.identity.users import deactivate_user

    with tenant_transaction(tenant_slug) as (connection, actor):
        user, sessions, tokens = deactivate_user(connection, actor, email)
        record_audit(
            connection,
            actor,
            "user.deactivated",
            target_type="user",
            target_id=user.id,
            details={"email": user.email, "sessions": sessions, "tokens": tokens, "via": "cli"},
        )
        sync_users(connection, app_state().metadata_cache, actor.tenant_id, actor.tenant_slug)
    click.echo(f"Deactivated {user.email}: ended {sessions} session(s), revoked {tokens} token(s).")


@user_group.command("reset-password")
@_TENANT
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from the first line of standard input (for scripts).",
)
def user_reset_password(tenant_slug: str, email: str, password_stdin: bool) -> None:
    """Set a user's password (asked twice, not echoed); their browser sessions end."""
    from trellis.identity.users import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with tenant_transaction(tenant_slug) as (connection, actor):
        user = set_password(connection, actor, email, password)
        record_audit(
            connection,
            actor,
            "user.password_reset",
            target_type="user",
            target_id=user.id,
            details={"email": user.email, "via": "cli"},
        )
    click.echo(f"Changed the password of {user.email}.")


@user_group.command("reset-mfa")
@_TENANT
@click.argument("email")
def user_reset_mfa(tenant_slug: str, email: str) -> None:
    """Turn a user's two-factor sign-in off (a lost phone): they sign in with the password
    and may enrol again."""
    from trellis.identity.mfa import reset_mfa

    with tenant_transaction(tenant_slug) as (connection, actor):
        user, was_on = reset_mfa(connection, actor, email)
        if was_on:
            record_audit(
                connection,
                actor,
                "mfa.disabled",
                target_type="user",
                target_id=user.id,
                details={"email": user.email, "reset_by_administrator": True, "via": "cli"},
            )
    if was_on:
        click.echo(f"Turned off two-factor sign-in for {user.email}.")
    else:
        click.echo(f"{user.email} had no two-factor sign-in; nothing changed.")


@click.group("token", cls=AppGroup)
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@_TENANT
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", default="cli", show_default=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(TOKEN_SCOPES),
    help="Repeat for several; default: all.",
)
def token_create(tenant_slug: str, email: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token; the token alone is printed on the last line."""
    from trellis.identity.tokens import create_token
    from trellis.identity.users import require_user

    with tenant_transaction(tenant_slug) as (connection, actor):
        user = require_user(connection, email)
        token, row = create_token(
            connection, actor, user_id=user.id, name=name, scopes=scopes or TOKEN_SCOPES
        )
        record_audit(
            connection,
            actor,
            "token.created",
            target_type="api_token",
            target_id=row.id,
            details={
                "name": row.name,
                "user_id": str(row.user_id),
                "scopes": list(row.scopes),
                "via": "cli",
            },
        )
    click.echo("Store this token now; it is not shown again:", err=True)
    click.echo(token)


@token_group.command("list")
@_TENANT
@json_option
def token_list(tenant_slug: str, as_json: bool) -> None:
    """List a tenant's API tokens (never their secrets)."""
    from trellis.identity.tokens import list_tokens
    from trellis.identity.users import list_users

    with tenant_transaction(tenant_slug) as (connection, actor):
        emails = {user.id: user.email for user in list_users(connection)}
        rows = [
            {**row._mapping, "user": emails.get(row.user_id, str(row.user_id))}
            for row in list_tokens(connection, actor)
        ]
    columns = ("id", "name", "user", "scopes", "created_at", "last_used_at", "revoked_at")
    echo_listing(rows, columns, as_json)


@token_group.command("revoke")
@_TENANT
@click.argument("token_id", metavar="ID", type=click.UUID)
def token_revoke(tenant_slug: str, token_id: uuid.UUID) -> None:
    """Revoke an API token (its ID is in ``trellis token list``)."""
    from trellis.identity.tokens import revoke_token

    with tenant_transaction(tenant_slug) as (connection, actor):
        revoke_token(connection, actor, token_id)
        record_audit(
            connection,
            actor,
            "token.revoked",
            target_type="api_token",
            target_id=token_id,
            details={"via": "cli"},
        )
    click.echo(f"Revoked token {token_id}.")
