"""Listings on the command line: an aligned table for people, ``--json`` for scripts."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

json_option: Callable[[F], F] = click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array instead of a table."
)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def echo_listing(rows: Sequence[Mapping[Any, Any]], columns: Sequence[str], as_json: bool) -> None:
    """Print ``rows`` (each with every name in ``columns``) as a table or JSON."""
    if as_json:
        data = [{name: _json_value(row[name]) for name in columns} for row in rows]
        click.echo(json.dumps(data, indent=2))
        return
    table = [[name.upper().replace("_", " ") for name in columns]]
    table += [[_text(row[name]) for name in columns] for row in rows]
    widths = [max(len(line[index]) for line in table) for index in range(len(columns))]
    for line in table:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    if not rows:
        click.echo("(none)")
