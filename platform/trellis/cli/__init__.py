"""The ``trellis`` command line: a Flask CLI group with the platform's commands."""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy.engine import Connection

from trellis.actor import TOKEN_SCOPES, Actor, system_actor
from trellis.config import SETTINGS
from trellis.errors import TrellisError
from trellis.plugins_manager import build_plugin_manager
from trellis.state import AppState, get_state


def _create_app():
    from trellis.runtime.app import create_app

    return create_app()


class TrellisGroup(FlaskGroup):
    """Turns a :class:`TrellisError` into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TrellisError as error:
            details = "".join(
                f"\n  {name}: {'; '.join(messages)}" for name, messages in error.fields.items()
            )
            raise click.ClickException(f"{error.message}{details}") from None


cli = TrellisGroup(
    create_app=_create_app,
    add_default_commands=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Trellis: a low-code CRM platform.",
)


def _state() -> AppState:
    return get_state()


@cli.command("settings")
def settings_command() -> None:
    """List every setting with its environment variable, default and help."""
    for setting in SETTINGS:
        click.echo(f"{setting.env_var} (default: {setting.default!r})\n    {setting.help}")


@cli.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the platform's migrations."""
    from trellis.runtime.migrate import upgrade

    upgrade(_state().database, revision)
    click.echo(f"Database upgraded to {revision}.")


@cli.group("tenant")
def tenant_group() -> None:
    """Manage tenants."""


@tenant_group.command("create")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (default: the slug).")
def tenant_create(slug: str, name: str | None) -> None:
    """Create a tenant."""
    from trellis.identity.tenants import create_tenant

    with _state().database.owner() as connection:
        tenant = create_tenant(connection, slug, name)
    click.echo(f"Created tenant {tenant.slug} ({tenant.id}).")


@cli.group("user")
def user_group() -> None:
    """Manage users."""


@user_group.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--email", required=True)
@click.option("--password", default=None, help="Omit for a user who signs in by token only.")
@click.option("--name", default="", help="Display name.")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
def user_create(tenant_slug: str, email: str, password: str | None, name: str, admin: bool) -> None:
    """Create a user in a tenant."""
    from trellis.identity.users import create_user

    with _tenant_transaction(tenant_slug) as (connection, actor):
        user = create_user(
            connection,
            actor,
            email=email,
            password=password,
            display_name=name,
            roles=["admin"] if admin else [],
        )
    click.echo(f"Created user {user.email} ({user.id}).")


@cli.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.option("--tenant", "tenant_slug", required=True)
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
    from trellis.errors import NotFound
    from trellis.identity.tokens import create_token
    from trellis.identity.users import find_user

    with _tenant_transaction(tenant_slug) as (connection, actor):
        user = find_user(connection, email)
        if user is None:
            raise NotFound(f"No user {email} in tenant {tenant_slug}.")
        token, _ = create_token(
            connection, actor, user_id=user.id, name=name, scopes=scopes or TOKEN_SCOPES
        )
    click.echo("Store this token now; it is not shown again:", err=True)
    click.echo(token)


@contextlib.contextmanager
def _tenant_transaction(slug: str) -> Iterator[tuple[Connection, Actor]]:
    """A tenant-scoped transaction with the platform acting as administrator."""
    from trellis.identity.tenants import get_tenant

    database = _state().database
    with database.platform() as connection:
        tenant = get_tenant(connection, slug=slug)
    with database.tenant(tenant.id) as connection:
        yield connection, system_actor(tenant.id, tenant.slug)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--threads", default=8, show_default=True, type=int, help="Request threads per process."
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (more than one: gunicorn; about one per core).",
)
def serve(host: str, port: int, threads: int, processes: int) -> None:
    """Serve the web app (with the embedded Redis, also run a worker beside it)."""
    _serve(host, port, threads, processes)


@cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Serve Trellis with the demo tenant and its example data loaded."""
    from trellis.cli.demo_tenant import load_demo
    from trellis.runtime.migrate import upgrade

    upgrade(_state().database)
    for line in load_demo(current_app):
        click.echo(line)
    if ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
        # The demo is plain HTTP on this machine; Secure cookies would never be sent back.
        current_app.config["SESSION_COOKIE_SECURE"] = False
    _serve(host, port, threads=8)


def _serve(host: str, port: int, threads: int, processes: int = 1) -> None:
    from trellis.runtime.app import create_app
    from trellis.runtime.server import serve

    state = _state()
    if state.redis_embedded and state.config.embedded_worker:
        _start_embedded_worker(state)
    click.echo(f"Trellis is serving on http://{host}:{port}")
    # current_app is a proxy that Flask types as the app itself, so not its unwrapping.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if processes > 1:
        # Each worker process builds its own app, on the servers this one resolved
        # (embedded ones included); this process's pool is not carried into them.
        # (``trellis demo`` relaxes cookie security on loopback: so do the workers.)
        state.database.dispose()
        config = state.config.replace(secure_cookies=app.config["SESSION_COOKIE_SECURE"])
        serve(
            lambda: create_app(config), host=host, port=port, threads=threads, processes=processes
        )
    else:
        serve(lambda: app, host=host, port=port, threads=threads)


def _start_embedded_worker(state: AppState) -> None:
    """Run a Celery worker as a child process, sharing this process's embedded servers."""
    environment = dict(
        os.environ,
        TRELLIS_DATABASE_URL=state.config.database_url,
        TRELLIS_REDIS_URL=state.redis_url,
        TRELLIS_INSTANCE_PATH=state.config.instance_path,
        TRELLIS_SECRET_KEY=state.config.secret_key,
    )
    # --beat: the periodic outbox sweep and index reconciliation run in this worker too.
    schedule = os.path.join(state.config.instance_path, "celerybeat-schedule")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trellis.cli",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--beat",
            "--schedule",
            schedule,
        ],
        env=environment,
    )
    atexit.register(worker.terminate)


@cli.command("worker", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to ``celery worker``); it restarts itself
    if Celery stops on an error (see trellis.runtime.worker_restart)."""
    from trellis.runtime.worker_restart import run_restarting

    celery = current_app.extensions["celery"]
    run_restarting(
        lambda: celery.start(["worker", *celery_args]),
        ["-m", "trellis.cli", "worker", *celery_args],
    )


@cli.command("beat", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Run Celery beat, the scheduler of periodic tasks."""
    current_app.extensions["celery"].start(["beat", *celery_args])


@cli.group("metadata")
def metadata_group() -> None:
    """Metadata as code: export and import packages of object definitions."""


@metadata_group.command("export")
@click.option("--tenant", "tenant_slug", required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
)
def metadata_export(tenant_slug: str, output_format: str) -> None:
    """Print the tenant's metadata package."""
    from trellis.metadata.package import dump_package, export_package
    from trellis.metadata.service import MetadataService

    with _tenant_transaction(tenant_slug) as (connection, actor):
        package = export_package(MetadataService(connection, actor, _state().metadata_cache))
    click.echo(dump_package(package, output_format), nl=False)


@metadata_group.command("import")
@click.option("--tenant", "tenant_slug", required=True)
@click.argument("package_file", metavar="FILE", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@click.option("--force", is_flag=True, help="Allow changes that remove values that no longer fit.")
@click.option("--message", default="", help="Revision message.")
def metadata_import(
    tenant_slug: str, package_file: BinaryIO, dry_run: bool, force: bool, message: str
) -> None:
    """Make the tenant's objects match a package (YAML, or JSON for *.json; - for stdin)."""
    from trellis.api.context import schedule_index_build
    from trellis.metadata.package import import_package, parse_package, plan_changed, plan_report
    from trellis.metadata.service import MetadataService

    name = str(getattr(package_file, "name", "") or "")
    package = parse_package(
        package_file.read(), "json" if name.lower().endswith(".json") else "yaml"
    )
    with _tenant_transaction(tenant_slug) as (connection, actor):
        plan = import_package(
            MetadataService(connection, actor, _state().metadata_cache),
            package,
            dry_run=dry_run,
            force=force,
            message=message,
        )
    if plan_changed(plan) and not dry_run:
        schedule_index_build(actor.tenant_id)
    for line in plan_report(plan, dry_run=dry_run):
        click.echo(line)


build_plugin_manager().hook.register_commands(cli=cli)


def main() -> None:
    cli.main(prog_name="trellis")


if __name__ == "__main__":
    main()
