"""A field's value as a screen shows it in words: read-only fields of a form and the
changes someone else made. Pure functions over a field and its stored value.

Rich text is sanitised again where it is shown (nh3, as the rich text type does when
it is saved): what a form shows back may be what the user typed, not yet saved.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import nh3
from markupsafe import Markup

from trellis.metadata.compiled import CompiledField
from trellis.views.widgets import widget_for

RESTRICTED = "Restricted record"
NUMBER_KINDS = frozenset({"number", "currency", "percent"})


def sanitized_html(text: str) -> Markup:
    """Rich text safe to put in a page: nh3's allow-list, as the rich text type stores."""
    return Markup(nh3.clean(text))  # nh3 has removed anything unsafe


def field_text(field: CompiledField, value: Any, name: str | None = None) -> str | Markup:
    """``value`` (stored form) of ``field`` in words: "" when blank; a lookup is the
    related record's ``name`` (None when the user may not read it)."""
    if value is None or value == "" or value == []:
        return ""
    definition = field.definition
    if field.type.references_records:
        return name or RESTRICTED
    if widget_for(field).name == "rich_text":
        return sanitized_html(str(value))
    choices = field.type.choices(definition)
    if choices is not None:
        labels = {entry["value"]: entry["label"] for entry in choices}
        items = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(item, item)) for item in items)
    kind = field.type.formula_type(definition)
    if kind == "checkbox" or isinstance(value, bool):
        return "Yes" if value is True else "No"
    if kind in NUMBER_KINDS:
        return number_text(value, scale_of(field), percent=kind == "percent")
    if kind in {"date", "datetime", "time"}:
        return moment_text(kind, str(value))
    return str(value)


def scale_of(field: CompiledField) -> int | None:
    """The definition's scale, else the default its type declares; money has cents."""
    declared = field.type.properties.get("scale", {}).get("default")
    scale = field.definition.get("scale", declared)
    if isinstance(scale, int) and not isinstance(scale, bool):
        return scale
    return 2 if field.type.formula_type(field.definition) == "currency" else None


def number_text(value: Any, scale: int | None, *, percent: bool = False) -> str:
    """``1,234.50`` with the field's decimals (as many as it has without a scale); a
    percent as stored (25 is ``25%``)."""
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if scale is not None:
        text = f"{number:,.{scale}f}"
    elif number == number.to_integral_value():
        text = f"{int(number):,}"
    else:
        text = f"{number.normalize():,f}"
    return f"{text}%" if percent else text


def moment_text(kind: str, text: str) -> str:
    """A stored date (``31 Jan 2026``), date and time (``31 Jan 2026, 09:00 UTC``) or time
    of day (``09:30``)."""
    try:
        if kind == "date":
            day = dt.date.fromisoformat(text)
            return f"{day.day} {day:%b %Y}"
        if kind == "datetime":
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
            return f"{moment.day} {moment:%b %Y, %H:%M} UTC"
        return dt.time.fromisoformat(text).strftime("%H:%M")
    except ValueError:
        return text
