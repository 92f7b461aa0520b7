"""Form widgets: one per kind of field, each a Jinja macro in ``widgets/``, and how a
widget's value goes from a record into the form and from a submitted form back into the
values the records service takes.

A field type names its widget (``FieldType.widget``, a capability like any other, so a
plugin type can use a built-in widget); a type that names none gets the widget of its
formula type (a plugin type whose values the formula engine sees as numbers is edited
as a number), else a one-line text input. Nothing here tests for a type's name.

What a widget reads from a form is its ``kind``: ``text`` (one string), ``flag`` (a
checkbox: ticked or not), ``many`` (every value sent under the field's name) or
``datetime`` (a ``datetime-local`` input: a time without a zone, which is UTC, or an
ISO time with its offset, as the form's script sends the user's local time). The
values go to the records service as typed: its field types check and normalise them,
so the form and the API give the same errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

from trellis.metadata.compiled import CompiledField
from trellis.metadata.field_types import plain_number

# A datetime-local input's value: no zone.
LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")


@dataclasses.dataclass(frozen=True)
class Widget:
    name: str
    #: The template whose ``widget(control)`` macro renders it.
    template: str
    kind: str = "text"
    input_type: str = "text"
    input_mode: str | None = None
    autocomplete: str | None = None
    #: Takes the form's full width (long text, checkbox groups).
    wide: bool = False
    #: Text shown after the input (``%``).
    suffix: str | None = None


_INPUT = "widgets/input.html"
_NUMBER = "widgets/number.html"
WIDGETS = {
    widget.name: widget
    for widget in (
        Widget("text", _INPUT),
        Widget("email", _INPUT, input_type="email", autocomplete="email"),
        Widget("phone", _INPUT, input_type="tel", autocomplete="tel"),
        Widget("url", _INPUT, input_type="url", autocomplete="url"),
        Widget("textarea", "widgets/textarea.html", wide=True),
        Widget("rich_text", "widgets/rich_text.html", wide=True),
        Widget("number", _NUMBER, input_mode="decimal"),
        Widget("currency", _NUMBER, input_mode="decimal"),
        Widget("percent", _NUMBER, input_mode="decimal", suffix="%"),
        Widget("date", _INPUT, input_type="date"),
        Widget("datetime", _INPUT, kind="datetime", input_type="datetime-local"),
        Widget("time", _INPUT, input_type="time"),
        Widget("checkbox", "widgets/checkbox.html", kind="flag"),
        Widget("picklist", "widgets/select.html"),
        Widget("multi_picklist", "widgets/checkbox_group.html", kind="many", wide=True),
        Widget("lookup", "widgets/lookup.html"),
    )
}
READ_ONLY_TEMPLATE = "widgets/read_only.html"


def widget_for(field: CompiledField) -> Widget:
    """The widget that edits ``field``: its type's, else its formula type's, else text."""
    named = field.type.widget
    if named in WIDGETS:
        return WIDGETS[named]
    return WIDGETS.get(field.type.formula_type(field.definition), WIDGETS["text"])


def read_input(widget: Widget, form: MultiDict[str, str], name: str) -> Any:
    """What the form sent for a field, as typed: a string (or None when absent), a flag,
    or a list."""
    if widget.kind == "flag":
        return form.get(name, "").lower() in {"true", "on", "1"}
    if widget.kind == "many":
        return [value for value in form.getlist(name) if value]
    return form.get(name)


def record_value(widget: Widget, typed: Any) -> Any:
    """A typed value as the records service takes it: blank is None; a local date and
    time without a zone is UTC."""
    if widget.kind == "flag":
        return bool(typed)
    if widget.kind == "many":
        return list(typed) or None
    if typed is None or not str(typed).strip():
        return None
    if widget.kind == "datetime" and LOCAL_DATETIME.fullmatch(str(typed).strip()):
        return f"{str(typed).strip()}Z"
    return typed


def input_value(widget: Widget, value: Any) -> Any:
    """A value (stored, or as typed) as the widget's input holds it."""
    if widget.kind == "flag":
        return value is True or (isinstance(value, str) and value.lower() in {"true", "on"})
    if widget.kind == "many":
        return [str(item) for item in value] if isinstance(value, list) else []
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return plain_number(value)
    if widget.kind == "datetime":
        return utc_input(str(value))
    if widget.input_type == "time":
        return re.sub(r"^(\d{2}:\d{2}):00$", r"\1", str(value))
    return str(value)


def utc_input(text: str) -> str:
    """A stored (or typed) date and time as a ``datetime-local`` value in UTC; text that is
    no date and time stays as typed, for the save to explain."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")
