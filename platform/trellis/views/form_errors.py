"""What a form shows when a save is refused: the records service's errors next to their
fields and in a summary, and, for a save against an older version, what someone else
changed meanwhile.

Errors come keyed by field, as the API's envelope has them. A field shown on the form
gets its messages inline and a link in the summary; everything else (``_record``, a
rule's error on a field the user does not see, the owner) is listed in the summary only,
without naming a field the user may not read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy.engine import Row

from trellis.errors import NotFound, TrellisError
from trellis.identity.users import get_user
from trellis.views import field_values
from trellis.views.form_model import Control, RecordForm, same_value
from trellis.views.lookup_options import record_name
from trellis.views.widgets import record_value, widget_for


@dataclasses.dataclass(frozen=True)
class Problem:
    """One line of the error summary: a field's (labelled, linked) or the record's."""

    message: str
    label: str | None = None
    anchor: str | None = None


def field_errors(error: TrellisError, form: RecordForm) -> dict[str, list[str]]:
    """The error's messages by the API name of each field the form shows."""
    shown = {field.api_name for field in form.fields}
    errors: dict[str, list[str]] = {}
    for key, messages in error.fields.items():
        field = form.obj.find(key)
        if field is not None and field.api_name in shown:
            errors.setdefault(field.api_name, []).extend(messages)
    return errors


def summary(error: TrellisError, form: RecordForm, controls: list[Control]) -> list[Problem]:
    """The summary: the shown fields' problems in form order, then the others (the
    error's message when it names no field at all)."""
    problems = [
        Problem(message, control.label, control.anchor if control.conditions.visible else None)
        for control in controls
        for message in control.errors
    ]
    linked = {control.name for control in controls if control.errors}
    for key, messages in error.fields.items():
        field = form.obj.find(key)
        if field is not None and field.api_name in linked:
            continue
        shown = field is not None and field in form.fields
        label = str(field.definition.get("label") or field.api_name) if shown and field else None
        if key == "owner_id":
            label = "Owner"
        problems.extend(Problem(message, label) for message in messages)
    if not problems:
        problems.append(Problem(error.message))
    return problems


@dataclasses.dataclass(frozen=True)
class TheirChange:
    """A field someone else changed: its value now, the user's, and which one the form
    holds now (``theirs`` where the user had left the field alone)."""

    label: str
    theirs: Markup
    yours: Markup
    kept: str


@dataclasses.dataclass(frozen=True)
class StaleSave:
    changes: list[TheirChange]
    by: str | None
    at: dt.datetime | None


def stale_save(
    form: RecordForm, typed: dict[str, Any], rows: list[Row[Any]]
) -> tuple[StaleSave, dict[str, Any]]:
    """What the later writes ``rows`` changed, for the form of the record as it is now
    (``form.record``), and the user's values ``typed`` with those changes taken in
    wherever the user had not changed the field themselves."""
    assert form.record is not None
    original: dict[str, Any] = {}
    for row in rows:
        for name, change in row.changes.items():
            original.setdefault(name, change[0])
    merged = dict(typed)
    changes = []
    for field in form.fields:
        name = field.api_name
        if name not in original:
            continue
        theirs = form.record.get(name)
        typed_here = name in typed and name in form.editable
        yours = record_value(widget_for(field), typed[name]) if typed_here else original[name]
        untouched = not typed_here or same_value(field, yours, original[name])
        if untouched:
            merged[name] = theirs
        changes.append(
            TheirChange(
                str(field.definition.get("label") or name),
                _words(form, name, theirs),
                _words(form, name, yours, typed=typed_here),
                "theirs" if untouched else "yours",
            )
        )
    last = rows[-1] if rows else None
    return StaleSave(changes, _who(form, last), last.created_at if last else None), merged


def _words(form: RecordForm, name: str, value: Any, *, typed: bool = False) -> Markup:
    """A stored value, or one the user ``typed``, as the screens show it."""
    field = form.obj.fields[name]
    schema = form.current.schema
    if typed:
        try:
            value = field.normalize(value)
        except ValueError:
            return escape(str(value))  # not a valid value yet: as the user typed it
    if field.type.references_records and value:
        target = schema.object(field.definition["target"])
        value = field_values.named(
            schema, field, value, record_name(form.current, target, str(value))
        )
    return field_values.show(schema, field, value)


def _who(form: RecordForm, row: Row[Any] | None) -> str | None:
    if row is None or row.actor_id is None:
        return None
    if row.actor_id == form.current.actor.user_id:
        return "You (in another tab or window)"
    try:
        user = get_user(form.current.connection, row.actor_id)
    except NotFound:
        return None
    return str(user.display_name or user.email)
