"""The ``trellis`` command line: one click group with the platform's commands.

Commands that need the app build it on first use (see trellis.cli.base), so ``trellis
--help``, ``--version`` and ``settings`` start no embedded server.
"""

from __future__ import annotations

from typing import BinaryIO

import click

from trellis.cli.base import TrellisGroup, app_state, tenant_transaction
from trellis.cli.identity import tenant_group, token_group, user_group
from trellis.cli.privacy import privacy_group
from trellis.cli.serving import beat, demo, serve, worker
from trellis.config import SETTINGS
from trellis.plugins_manager import build_plugin_manager

cli = TrellisGroup("trellis", help="Trellis: a low-code CRM platform.")
click.version_option(
    package_name="trellis-crm", prog_name="trellis-crm", message="%(prog)s %(version)s"
)(cli)
for command in (tenant_group, user_group, token_group, privacy_group, serve, demo, worker, beat):
    cli.add_command(command)


@cli.command("settings", with_appcontext=False)
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

    upgrade(app_state().database, revision)
    click.echo(f"Database upgraded to {revision}.")


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
    from trellis.access.audit import record_audit
    from trellis.metadata.package_format import dump_package
    from trellis.metadata.service import MetadataService
    from trellis.records.list_view_packages import export_with_list_views

    with tenant_transaction(tenant_slug) as (connection, actor):
        service = MetadataService(connection, actor, app_state().metadata_cache)
        package = export_with_list_views(service)
        record_audit(
            connection,
            actor,
            "metadata.exported",
            target_type="metadata_revision",
            target_id=str(service.schema().revision),
            details={"via": "cli"},
        )
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
    from trellis.metadata.package_format import parse_package
    from trellis.metadata.package_plan import plan_changed, plan_report
    from trellis.metadata.service import MetadataService
    from trellis.records.list_view_packages import import_with_list_views

    name = str(getattr(package_file, "name", "") or "")
    package = parse_package(
        package_file.read(), "json" if name.lower().endswith(".json") else "yaml"
    )
    with tenant_transaction(tenant_slug) as (connection, actor):
        plan, access, views = import_with_list_views(
            MetadataService(connection, actor, app_state().metadata_cache),
            package,
            dry_run=dry_run,
            force=force,
            message=message,
        )
    for entry in (*access, *views):
        if entry["action"] != "unchanged":
            click.echo(f"{entry['action']} {entry['kind'].replace('_', ' ')} {entry['api_name']}")
    if plan_changed(plan) and not dry_run:
        schedule_index_build(actor.tenant_id)
    for line in plan_report(plan, dry_run=dry_run):
        click.echo(line)


build_plugin_manager().hook.register_commands(cli=cli)


def main() -> None:
    cli.main(prog_name="trellis")


if __name__ == "__main__":
    main()
