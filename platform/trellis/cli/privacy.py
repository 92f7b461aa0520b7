"""``trellis privacy export|erase``: the privacy API's operations on the command line,
with the platform acting as administrator (recorded in the audit trail ``via`` cli)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask.cli import AppGroup

from trellis.cli.base import app_state, tenant_transaction
from trellis.errors import BadRequest
from trellis.records.privacy.erase import ANONYMISE, MODES, erase_person
from trellis.records.privacy.export import export_person
from trellis.records.privacy.subject import parse_subject

F = TypeVar("F", bound=Callable[..., Any])


@click.group("privacy", cls=AppGroup)
def privacy_group() -> None:
    """Export or erase everything held about a person."""


def _subject_options(command: F) -> F:
    for option in reversed(
        (
            click.option("--tenant", "tenant_slug", required=True, help="The tenant's slug."),
            click.option("--email", default=None, help="The person's email address."),
            click.option("--object", "object_name", default=None, help="With --record."),
            click.option("--record", default=None, help="The person's record id."),
        )
    ):
        command = option(command)
    return command


def _subject(email: str | None, object_name: str | None, record: str | None) -> Any:
    return parse_subject({"email": email, "object": object_name, "record": record})


@privacy_group.command("export")
@_subject_options
def privacy_export(
    tenant_slug: str, email: str | None, object_name: str | None, record: str | None
) -> None:
    """Print everything held about a person as one JSON document."""
    subject = _subject(email, object_name, record)
    with tenant_transaction(tenant_slug) as (connection, actor):
        schema = app_state().metadata_cache.get(connection, actor.tenant_id)
        document = export_person(connection, actor, schema, subject, via="cli")
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@privacy_group.command("erase")
@_subject_options
@click.option(
    "--mode", type=click.Choice(MODES), default=ANONYMISE, show_default=True, help="What to do."
)
@click.option("--confirm", is_flag=True, help="Erase; without it, print what would change.")
def privacy_erase(
    tenant_slug: str,
    email: str | None,
    object_name: str | None,
    record: str | None,
    mode: str,
    confirm: bool,
) -> None:
    """Anonymise a person's records, or delete their own; print what changed."""
    # The record events it writes are dispatched by the worker's periodic outbox sweep.
    subject = _subject(email, object_name, record)
    try:
        with tenant_transaction(tenant_slug) as (connection, actor):
            schema = app_state().metadata_cache.get(connection, actor.tenant_id)
            report = erase_person(
                connection, actor, schema, subject, mode=mode, confirm=confirm, via="cli"
            )
    except BadRequest as refused:
        if "preview" not in refused.extra:
            raise
        click.echo(json.dumps(refused.extra["preview"], indent=2, ensure_ascii=False))
        raise click.ClickException(
            "Nothing was changed: run again with --confirm to erase what is listed above."
        ) from None
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))
