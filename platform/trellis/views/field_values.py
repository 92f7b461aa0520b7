"""A record's field value as the screens show it: one function for lists, record pages,
related lists and read-only form fields, so a value reads the same everywhere.

The value is the one the records API returns (JSON: numbers, ISO dates, lists for
multi-picklists, a lookup's id or, when its name was asked for, ``{"id": …, "<name>": …}``).
A field type shows by its own name, or by its formula type (a formula returning currency
shows as currency, and so does a plugin type whose formula type is ``currency``); an
unknown kind shows as text. Everything is escaped; rich text was sanitised when saved
and is sanitised again here, as it may predate that. Markup is built from escaped parts with
f-strings (markupsafe's C ``escape``), not ``Markup.format``, whose Python-level formatter
cost most of a list page's rendering (hundreds of values; benchmarks/screens_bench.py).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

import nh3
from markupsafe import Markup, escape

from trellis.metadata.compiled import CompiledField, TenantSchema
from trellis.views import display

EMPTY = Markup('<span class="value-empty" aria-label="empty">—</span>')
RESTRICTED = Markup('<span class="value-restricted">Restricted record</span>')


def record_url(api_name: str, record_id: str) -> str:
    return f"/o/{api_name}/{record_id}"


def show(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    """``value`` of ``field`` as HTML, empty values as a dash."""
    if value is None or value == "" or value == []:
        return EMPTY
    kind = (
        field.type.name if field.type.name in _SHOW else field.type.formula_type(field.definition)
    )
    shower = _SHOW.get(kind, _text)
    try:
        return shower(schema, field, value)
    except (TypeError, ValueError, decimal.InvalidOperation):
        return _text(schema, field, value)  # a value older than its field's type


def plain(schema: TenantSchema, field: CompiledField, value: Any) -> str:
    """The value as text (titles, ``aria-label``s): the HTML form without its markup."""
    return Markup(show(schema, field, value)).striptags()


def _text(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    return escape(str(value))


def _long_text(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    return Markup(f'<span class="value-long">{escape(str(value))}</span>')


def _rich_text(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    return Markup(f'<div class="value-rich">{nh3.clean(str(value))}</div>')


def _number(value: Any, scale: int | None) -> str:
    number = decimal.Decimal(str(value))
    if scale is None:
        text = f"{number:,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{number:,.{scale}f}"


def _scale(field: CompiledField, default: int | None) -> int | None:
    scale = field.definition.get("scale", default)
    return int(scale) if scale is not None else None


def _decimal(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    return Markup(
        f'<span class="value-number">{escape(_number(value, _scale(field, None)))}</span>'
    )


def _currency(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    return Markup(f'<span class="value-number">{escape(_number(value, _scale(field, 2)))}</span>')


def _percent(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    return Markup(
        f'<span class="value-number">{escape(_number(value, _scale(field, None)))}%</span>'
    )


def _checkbox(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    if value is True:
        return Markup('<span class="value-check" aria-label="Yes">✓ Yes</span>')
    return Markup('<span class="value-check value-check-off">No</span>')


def _date(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    date = dt.date.fromisoformat(str(value))
    return Markup(f'<time datetime="{date.isoformat()}">{escape(display.day(date))}</time>')


def _datetime(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    moment = dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    shown = display.timestamp(moment)
    shown_text = escape(shown)
    return Markup(f'<time datetime="{moment.isoformat()}" title="{shown_text}">{shown_text}</time>')


def _choice(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    return Markup(f'<span class="badge">{escape(str(value))}</span>')


def _choices(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    values = value if isinstance(value, list) else [value]
    return Markup(" ").join(_choice(schema, field, each) for each in values)


def _email(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    text = escape(str(value))
    return Markup(f'<a href="mailto:{text}">{text}</a>')


def _phone(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    digits = "".join(ch for ch in str(value) if ch.isdigit() or ch == "+")
    return Markup(f'<a href="tel:{escape(digits)}">{escape(str(value))}</a>')


def _url(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    text = str(value)
    if not text.lower().startswith(("http://", "https://")):
        return escape(text)  # never a javascript: link
    link = escape(text)
    return Markup(f'<a href="{link}" rel="noopener noreferrer" target="_blank">{link}</a>')


def _lookup(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    """A link named by the related record's name field; a record the reader may not
    read (an expansion with its id alone) says so, and a bare id links as itself."""
    target = schema.objects.get(str(field.definition.get("target", "")).lower())
    if target is None:
        return escape(str(value))
    if not isinstance(value, dict):
        return _link(record_url(target.api_name, str(value)), str(value))
    name_field = target.name_field or "id"
    if set(value) == {"id"}:
        return RESTRICTED
    name = value.get(name_field) or "Untitled"
    return _link(record_url(target.api_name, str(value["id"])), str(name))


def _link(url: str, text: str) -> Markup:
    return Markup(f'<a href="{escape(url)}">{escape(text)}</a>')


_SHOW: dict[str, Callable[[TenantSchema, CompiledField, Any], Markup]] = {
    "text": _text,
    "auto_number": _text,
    "long_text": _long_text,
    "rich_text": _rich_text,
    "number": _decimal,
    "currency": _currency,
    "percent": _percent,
    "checkbox": _checkbox,
    "date": _date,
    "datetime": _datetime,
    "time": _text,
    "picklist": _choice,
    "multi_picklist": _choices,
    "email": _email,
    "phone": _phone,
    "url": _url,
    "lookup": _lookup,
}
