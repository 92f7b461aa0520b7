"""The command group and what its commands share: the app, built only when a command
needs it, and a tenant-scoped transaction.

Flask's ``FlaskGroup`` builds the app to list its commands, so ``trellis --help`` would
start an embedded PostgreSQL; Trellis registers every command on the group itself (its
plugins through the ``register_commands`` hook), so the group is a plain ``AppGroup``
whose commands load the app on first use (``with_appcontext=False`` opts out).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy.engine import Connection

from trellis.actor import Actor, system_actor
from trellis.errors import TrellisError
from trellis.state import AppState, get_state


def _create_app() -> Flask:
    from trellis.runtime.app import create_app

    return create_app()


class TrellisGroup(AppGroup):
    """Turns a :class:`TrellisError` into a one-line message and exit status 1."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if extra.get("obj") is None:
            extra["obj"] = ScriptInfo(create_app=_create_app, set_debug_flag=False)
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TrellisError as error:
            details = "".join(
                f"\n  {name}: {'; '.join(messages)}" for name, messages in error.fields.items()
            )
            raise click.ClickException(f"{error.message}{details}") from None


def load_app() -> Flask:
    """The app of this invocation, built on first use (the embedded servers start here)."""
    return click.get_current_context().ensure_object(ScriptInfo).load_app()


def app_state() -> AppState:
    return get_state()


@contextlib.contextmanager
def tenant_transaction(slug: str) -> Iterator[tuple[Connection, Actor]]:
    """A tenant-scoped transaction with the platform acting as administrator."""
    from trellis.identity.tenants import get_tenant

    database = app_state().database
    with database.platform() as connection:
        tenant = get_tenant(connection, slug=slug)
    with database.tenant(tenant.id) as connection:
        yield connection, system_actor(tenant.id, tenant.slug)
