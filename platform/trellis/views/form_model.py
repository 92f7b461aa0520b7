"""A record form: the fields a user sees on an object's create or edit form, what each
holds, and the values a submitted form saves.

The fields are the object's active fields in the order of its definition, less those
field-level security hides from the user; system fields never appear. A field is
editable when the user may edit it and it is not computed (formulas, roll-ups,
auto-numbers), not ``read_only``, and not one the platform keeps on a User record;
other fields are shown read-only. Conditional fields follow
:func:`trellis.records.conditions.form_conditions`: a hidden field, or one read-only by
its condition, sends nothing, so it keeps its value, as the records service expects.
An edit sends only what the user changed, as a client of the API would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from flask import url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from trellis.metadata.compiled import CONDITION_KEYS, CompiledField, ObjectSchema
from trellis.metadata.field_types import FieldValueError
from trellis.records.conditions import FieldConditions, form_conditions
from trellis.records.users import MANAGED_FIELDS
from trellis.views import field_values
from trellis.views.field_values import sanitized_html
from trellis.views.lookup_options import LISTED_RECORDS, Option, first_records, record_name
from trellis.views.shell import Screen
from trellis.views.widgets import Widget, input_value, read_input, record_value, widget_for

NO_CONDITIONS = FieldConditions()


@dataclasses.dataclass
class Control:
    """One field of a form as its widget renders it (on a record form, or edited in place
    on the record page, whose controls' ids start ``inline-`` instead of ``field-``)."""

    field: CompiledField
    widget: Widget
    editable: bool
    value: Any = ""
    #: The value as the screens show it (trellis.views.field_values), for a read-only field.
    text: str | Markup = ""
    conditions: FieldConditions = NO_CONDITIONS
    errors: list[str] = dataclasses.field(default_factory=list)
    options: list[Option] = dataclasses.field(default_factory=list)
    #: A lookup's record, by name (None: none, or one the user may not read).
    record_name: str | None = None
    #: A lookup whose options list every record the user may pick (else: the id input).
    listed: bool = True
    #: Where a lookup's type-ahead asks for records by name.
    search_url: str | None = None
    #: What the ids of the control and its parts start with.
    prefix: str = "field"

    @property
    def name(self) -> str:
        return self.field.api_name

    @property
    def id(self) -> str:
        return f"{self.prefix}-{self.name}"

    @property
    def label(self) -> str:
        return str(self.field.definition.get("label") or self.name)

    @property
    def help(self) -> str | None:
        return self.field.definition.get("help_text")

    @property
    def required(self) -> bool:
        return bool(self.field.definition.get("required")) or self.conditions.required

    @property
    def conditional(self) -> bool:
        """Whether the field's state follows what the user types (the form's script asks)."""
        return any(self.field.definition.get(key) for key in CONDITION_KEYS)

    @property
    def anchor(self) -> str:
        """The id an error summary links to: the control, or a group's first box."""
        return f"{self.id}-0" if self.widget.kind == "many" else self.id

    @property
    def described_by(self) -> str:
        ids = [f"{self.id}-help"] if self.help else []
        if self.widget.kind == "datetime" and self.editable:
            ids.append(f"{self.id}-zone")
        if self.field.type.references_records and self.editable and not self.listed:
            ids.append(f"{self.id}-hint")
        return " ".join([*ids, f"{self.id}-error"] if self.errors else ids)

    @property
    def limits(self) -> dict[str, Any]:
        """What the type's schema says of its values: ``maxLength``, ``minimum``..."""
        return self.field.type.json_schema(self.field.definition)

    @property
    def step(self) -> str:
        """A number input's step: one unit of the field's last decimal."""
        scale = stored_scale(self.field)
        return "1" if not scale else f"0.{'0' * (scale - 1)}1"

    @property
    def html(self) -> Markup:
        """Rich text, sanitised, to edit in place."""
        return sanitized_html(str(self.value or ""))


def stored_scale(field: CompiledField) -> int | None:
    """The decimals a number field keeps: its definition's scale, else the default its
    type declares (values are rounded to it when saved); money has cents."""
    declared = field.type.properties.get("scale", {}).get("default")
    scale = field.definition.get("scale", declared)
    if isinstance(scale, int) and not isinstance(scale, bool):
        return scale
    return 2 if field.type.formula_type(field.definition) == "currency" else None


def same_value(field: CompiledField, value: Any, stored: Any) -> bool:
    """Whether a value as a form sends it (:func:`record_value`) is the stored one."""
    if value == stored:
        return True
    try:
        return bool(field.normalize(value) == stored)
    except FieldValueError:
        return False


class RecordForm:
    """The form of a new ``obj`` record (``record`` None) or of ``record`` (as the user
    may read it: the records service's JSON)."""

    def __init__(
        self, current: Screen, obj: ObjectSchema, record: Mapping[str, Any] | None = None
    ) -> None:
        self.current = current
        self.obj = obj
        self.record = record
        hidden = current.access.unreadable_fields(obj)
        self.fields = [field for name, field in obj.fields.items() if name not in hidden]
        self.editable = {field.api_name for field in self.fields if self._may_edit(field)}

    @property
    def record_id(self) -> str | None:
        return None if self.record is None else str(self.record["id"])

    def _may_edit(self, field: CompiledField) -> bool:
        managed = bool(self.obj.definition.get("managed_by")) and field.api_name in MANAGED_FIELDS
        return (
            not field.type.computed
            and not field.definition.get("read_only")
            and not managed
            and self.current.access.can_edit_field(self.obj, field.api_name)
        )

    def editable_fields(self) -> list[CompiledField]:
        return [field for field in self.fields if field.api_name in self.editable]

    def stored(self, name: str) -> Any:
        """A field's value as stored: the record's, or a new record's default."""
        if self.record is not None:
            return self.record.get(name)
        return dict(self.obj.writes.defaults).get(name)

    def initial(self, args: MultiDict[str, str]) -> dict[str, Any]:
        """What the form holds when it opens: the record's values; for a new record the
        defaults, and the values the query string names (``?Account=<id>``)."""
        if self.record is not None:
            return {field.api_name: self.record.get(field.api_name) for field in self.fields}
        typed = {name: value for name, value in self.obj.writes.defaults if name in self.editable}
        for key in args:
            field = self.obj.find(key)
            if field is not None and field.api_name in self.editable:
                typed[field.api_name] = read_input(widget_for(field), args, key)
        return typed

    def read(self, form: MultiDict[str, str]) -> dict[str, Any]:
        """The editable fields' values as the form sent them."""
        return {
            field.api_name: read_input(widget_for(field), form, field.api_name)
            for field in self.editable_fields()
        }

    def conditions(self, typed: Mapping[str, Any]) -> dict[str, FieldConditions]:
        values = {
            field.api_name: record_value(widget_for(field), typed[field.api_name])
            for field in self.editable_fields()
            if field.api_name in typed
        }
        current = self.current
        return form_conditions(
            current.connection, current.access, current.schema, self.obj, values, self.record_id
        )

    def values_to_save(
        self, typed: Mapping[str, Any], conditions: Mapping[str, FieldConditions]
    ) -> dict[str, Any]:
        """The values a save sends: every editable field shown and not locked (a new
        record's blanks too, so a default the user cleared stays blank); for an edit only
        the fields whose value changed."""
        values = {}
        for field in self.editable_fields():
            state = conditions.get(field.api_name, NO_CONDITIONS)
            if not state.visible or state.read_only:
                continue
            value = record_value(widget_for(field), typed.get(field.api_name))
            if self.record is None or not self._unchanged(field, value):
                values[field.api_name] = value
        return values

    def _unchanged(self, field: CompiledField, value: Any) -> bool:
        return same_value(field, value, self.stored(field.api_name))

    def controls(
        self,
        typed: Mapping[str, Any],
        conditions: Mapping[str, FieldConditions],
        errors: Mapping[str, list[str]],
    ) -> list[Control]:
        """Every field of the form, holding ``typed`` where editable."""
        controls = []
        for field in self.fields:
            name = field.api_name
            editable = name in self.editable
            value = typed.get(name) if editable else self.stored(name)
            control = control_for(
                self.current,
                self.obj,
                field,
                value,
                editable=editable,
                conditions=conditions.get(name, NO_CONDITIONS),
                errors=errors.get(name, []),
            )
            if not editable:
                control.text = self._shown(field, value, control.record_name)
            controls.append(control)
        return controls

    def _shown(self, field: CompiledField, value: Any, name: str | None) -> str | Markup:
        if value is None and self.record is None and field.type.computed:
            return "Assigned when saved" if field.type.sequence else "Calculated when saved"
        schema = self.current.schema
        if field.type.references_records:
            value = field_values.named(schema, field, value, name)
        return field_values.show(schema, field, value)


def control_for(
    current: Screen,
    obj: ObjectSchema,
    field: CompiledField,
    value: Any,
    *,
    editable: bool = True,
    conditions: FieldConditions = NO_CONDITIONS,
    errors: Sequence[str] = (),
    prefix: str = "field",
) -> Control:
    """The control of ``obj``'s ``field`` holding ``value`` (stored, or as typed): what its
    widget's input holds, a lookup's record by name, and the records or choices to pick
    from. The record forms and the record page's edit in place both build theirs here."""
    control = Control(
        field,
        widget_for(field),
        editable,
        conditions=conditions,
        errors=list(errors),
        prefix=prefix,
    )
    control.value = input_value(control.widget, value)
    if control.widget.name == "rich_text":
        # What the user typed comes back sanitised, as it would be saved.
        control.value = str(sanitized_html(control.value))
    if field.type.references_records and value:
        target = current.schema.object(field.definition["target"])
        control.record_name = record_name(current, target, str(value))
    if editable and field.type.references_records:
        target = current.schema.object(field.definition["target"])
        control.options, more = first_records(current, target, LISTED_RECORDS)
        control.listed = not more
        control.search_url = url_for(
            "record_forms.lookup_matches", api_name=obj.api_name, field_name=field.api_name
        )
    choices = field.type.choices(field.definition)
    if editable and choices is not None:
        chosen = set(value) if isinstance(value, list) else {value}
        control.options = [
            Option(entry["value"], entry["label"])
            for entry in choices
            if entry["active"] or entry["value"] in chosen
        ]
    return control
