"""A record's field value as the screens show it: one function for lists, record pages,
related lists, history, read-only form fields and the changes someone else made, so a
value reads the same everywhere.

The value is the one the records API returns (JSON: numbers, ISO dates, lists for
multi-picklists, a lookup's id or, when its name was asked for, ``{"id": …, "<name>": …}``;
:func:`named` makes that expansion from an id and a name known separately). How a value
shows is asked of its field type, never by the type's name: a type whose values are
record ids shows as a link named by the related record, one whose values are chosen from
a list as its choices' labels, any other as its widget (trellis.views.widgets: the type's
own, else its formula type's) suggests, so a formula returning currency shows as
currency, and so does a plugin type edited as one; an unknown kind shows as text.
Everything is escaped. Rich text is sanitised here again (nh3, as the rich text type
does when it saves): a value may predate that, or be what a user typed and not yet saved.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
from collections.abc import Callable
from typing import Any

import nh3
from markupsafe import Markup

from trellis.metadata.compiled import CompiledField, TenantSchema
from trellis.views import display
from trellis.views.widgets import widget_for

EMPTY = Markup('<span class="value-empty" aria-label="empty">—</span>')
RESTRICTED = Markup('<span class="value-restricted">Restricted record</span>')
NUMBER_KINDS = frozenset({"number", "currency", "percent"})


def _html(template: str, *values: Any) -> str:
    """``template`` filled with the escaped ``values``, as HTML text. Plain ``str`` work,
    not ``Markup.format`` nor a ``Markup`` per value: a list page shows hundreds of
    values, and making those objects cost most of its cells' rendering
    (benchmarks/screens_bench.py). Callers wrap the finished HTML once."""
    return template.format(*(html.escape(str(value)) for value in values))


def record_url(api_name: str, record_id: str) -> str:
    return f"/o/{api_name}/{record_id}"


def list_url(api_name: str) -> str:
    """An object's list screen (trellis.views.objects), as the navigation links it."""
    return f"/o/{api_name}"


# A value as escaped HTML text (wrapped in Markup by whoever hands it to a template).
Display = Callable[[Any], str]


def show(schema: TenantSchema, field: CompiledField, value: Any) -> Markup:
    """``value`` of ``field`` as HTML, empty values as a dash."""
    return Markup(displayer(schema, field)(value))  # escaped by the displayer


def displayer(schema: TenantSchema, field: CompiledField) -> Display:
    """:func:`show` for the values of one field, as HTML text: what the field decides
    (its kind, its choices' labels, its target, its decimals) worked out once, for a
    column of many."""
    shows = _SHOW.get(_kind(field), _text)(schema, field)
    # A column repeats values (a stage, a date, a checkbox): each distinct one is worked
    # out once. The memo lives as long as the displayer, one page's column: this halved
    # the table body of the list benchmark's page (benchmarks/screens_bench.py).
    shown: dict[tuple[type, Any], str] = {}

    def display(value: Any) -> str:
        if value is None or value == "" or value == []:
            return EMPTY
        key = (value.__class__, value) if value.__class__ in _MEMO_TYPES else None
        if key is not None and key in shown:
            return shown[key]
        try:
            text = shows(value)
        except (TypeError, ValueError, decimal.InvalidOperation):
            text = html.escape(str(value))  # a value older than its field's type
        if key is not None:
            shown[key] = text
        return text

    return display


# Values a displayer remembers by (type, value): the type keeps ``True`` apart from ``1``.
_MEMO_TYPES = frozenset({str, int, float, bool, decimal.Decimal})


def plain(schema: TenantSchema, field: CompiledField, value: Any) -> str:
    """The value as text (titles, ``aria-label``s): the HTML form without its markup."""
    return Markup(show(schema, field, value)).striptags()


def named(schema: TenantSchema, field: CompiledField, record_id: Any, name: str | None) -> Any:
    """A lookup's value as the records API expands it, from the related record's id and
    its ``name`` known separately (None: a record the reader may not read, which then
    shows as restricted). Blank stays blank."""
    if record_id is None or record_id == "":
        return record_id
    if name is None:
        return {"id": str(record_id)}
    target = schema.objects.get(str(field.definition.get("target", "")).lower())
    if target is None or target.name_field == "id":
        return str(record_id)  # named by its id: it links as itself
    return {"id": str(record_id), target.name_field: name}


def is_numeric(field: CompiledField) -> bool:
    """Whether the field's values show as numbers (a table aligns them at the end)."""
    return _kind(field) in NUMBER_KINDS


def sanitized_html(text: str) -> Markup:
    """Rich text safe to put in a page: nh3's allow-list, as the rich text type stores."""
    return Markup(nh3.clean(text))  # nh3 has removed anything unsafe


def _kind(field: CompiledField) -> str:
    if field.type.references_records:
        return "lookup"
    if field.type.choices(field.definition) is not None:
        return "choice"
    return widget_for(field).name


def _text(schema: TenantSchema, field: CompiledField) -> Display:
    return lambda value: html.escape(str(value))


def _long_text(schema: TenantSchema, field: CompiledField) -> Display:
    return lambda value: _html('<span class="value-long">{}</span>', str(value))


def _rich_text(schema: TenantSchema, field: CompiledField) -> Display:
    # str(): a Markup operand would escape the tags around it.
    return lambda value: f'<div class="value-rich">{str(sanitized_html(str(value)))}</div>'


def _number(value: Any, scale: int | None) -> str:
    """``1,234.50`` with the field's decimals (half away from zero, as numbers are
    rounded when saved), or as many as the value has."""
    if isinstance(value, bool):
        raise TypeError("not a number")
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    if scale is None:
        text = f"{number:,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    rounded = number.quantize(_EXPONENTS[scale], rounding=decimal.ROUND_HALF_UP)
    return f"{rounded:,.{scale}f}"


class _Exponents(dict[int, decimal.Decimal]):
    """``Decimal("0.01")`` for 2, made once per scale."""

    def __missing__(self, scale: int) -> decimal.Decimal:
        self[scale] = exponent = decimal.Decimal(1).scaleb(-scale)
        return exponent


_EXPONENTS = _Exponents()


def _scale(field: CompiledField, default: int | None) -> int | None:
    scale = field.definition.get("scale", default)
    return scale if isinstance(scale, int) and not isinstance(scale, bool) else default


def _numbers(template: str, default_scale: int | None) -> Callable[..., Display]:
    def shows(schema: TenantSchema, field: CompiledField) -> Display:
        scale = _scale(field, default_scale)
        # Digits, separators and a sign only: nothing in it to escape.
        return lambda value: template.format(_number(value, scale))

    return shows


_decimal = _numbers('<span class="value-number">{}</span>', None)
# Money has cents unless its field says otherwise.
_currency = _numbers('<span class="value-number">{}</span>', 2)
# As stored: 25 is ``25%``.
_percent = _numbers('<span class="value-number">{}%</span>', None)

_YES = Markup('<span class="value-check" aria-label="Yes">✓ Yes</span>')
_NO = Markup('<span class="value-check value-check-off">No</span>')


def _checkbox(schema: TenantSchema, field: CompiledField) -> Display:
    return lambda value: _YES if value is True else _NO


def _show_date(value: Any, today: dt.date | None = None) -> str:
    date = dt.date.fromisoformat(str(value))
    # Written from the parsed date (digits and a month's name): nothing to escape.
    return f'<time datetime="{date.isoformat()}">{display.day(date, today)}</time>'


def _date(schema: TenantSchema, field: CompiledField) -> Display:
    today = display.today()  # once per column, not per cell
    return lambda value: _show_date(value, today)


def _show_datetime(value: Any) -> str:
    """In UTC, the zone the server knows (``12 Mar, 14:05 UTC``), the full moment as a
    tooltip."""
    moment = dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    shown = f"{display.day(moment.date())}, {moment:%H:%M} UTC"
    return _html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        display.timestamp(moment),
        shown,
    )


def _datetime(schema: TenantSchema, field: CompiledField) -> Display:
    return _show_datetime


def _show_time(value: Any) -> str:
    """A time of day, its seconds only when it has some (``09:30``)."""
    moment = dt.time.fromisoformat(str(value))
    shown = f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"
    return _html('<time datetime="{}">{}</time>', moment.isoformat(), shown)


def _time(schema: TenantSchema, field: CompiledField) -> Display:
    return _show_time


def _choices(schema: TenantSchema, field: CompiledField) -> Display:
    """Each chosen value as a badge, by its label (a value no longer listed as itself)."""
    choices = field.type.choices(field.definition) or []
    labels = {entry["value"]: entry["label"] for entry in choices}

    def shows(value: Any) -> str:
        values = value if isinstance(value, list) else [value]
        return " ".join(
            _html('<span class="badge">{}</span>', labels.get(each, each)) for each in values
        )

    return shows


def _email(schema: TenantSchema, field: CompiledField) -> Display:
    return lambda value: _html('<a href="mailto:{0}">{0}</a>', str(value))


def _show_phone(value: Any) -> str:
    digits = "".join(ch for ch in str(value) if ch.isdigit() or ch == "+")
    return _html('<a href="tel:{}">{}</a>', digits, str(value))


def _phone(schema: TenantSchema, field: CompiledField) -> Display:
    return _show_phone


def _show_url(value: Any) -> str:
    text = str(value)
    if not text.lower().startswith(("http://", "https://")):
        return html.escape(text)  # never a javascript: link
    return _html('<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>', text)


def _url(schema: TenantSchema, field: CompiledField) -> Display:
    return _show_url


def _lookup(schema: TenantSchema, field: CompiledField) -> Display:
    """A link named by the related record's name field; a record the reader may not
    read (an expansion with its id alone) says so, and a bare id links as itself."""
    target = schema.objects.get(str(field.definition.get("target", "")).lower())
    if target is None:
        return lambda value: html.escape(str(value))
    api_name, name_field = target.api_name, target.name_field or "id"

    def shows(value: Any) -> str:
        if not isinstance(value, dict):
            return _html('<a href="{}">{}</a>', record_url(api_name, str(value)), str(value))
        if set(value) == {"id"}:
            return RESTRICTED
        name = value.get(name_field) or "Untitled"
        return _html('<a href="{}">{}</a>', record_url(api_name, str(value["id"])), str(name))

    return shows


# By the kind :func:`_kind` names: a capability's, else a widget's.
_SHOW: dict[str, Callable[[TenantSchema, CompiledField], Display]] = {
    "text": _text,
    "textarea": _long_text,
    "rich_text": _rich_text,
    "number": _decimal,
    "currency": _currency,
    "percent": _percent,
    "checkbox": _checkbox,
    "date": _date,
    "datetime": _datetime,
    "time": _time,
    "choice": _choices,
    "picklist": _choices,
    "multi_picklist": _choices,
    "email": _email,
    "phone": _phone,
    "url": _url,
    "lookup": _lookup,
}
