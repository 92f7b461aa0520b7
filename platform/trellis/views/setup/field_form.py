"""The add and edit form of a field: its controls for the chosen type (from the type's
schema and capabilities, trellis.views.setup.field_controls), what they hold, and the
field definition a submitted form makes.

The form manages the common properties it shows and the type's own; whatever else a
definition holds (``deleted``, ``default_formula``...) is kept as it is. A type change
keeps only the common properties, as the metadata service's ``change_field`` does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from werkzeug.datastructures import MultiDict

from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.documents import object_meta_schema
from trellis.metadata.field_types import FieldType, FieldTypeRegistry
from trellis.views.setup.field_controls import Control, Option, initial_value, property_control
from trellis.views.setup.naming import api_name_from, humanize
from trellis.views.setup.value_rows import read_rows, rows_of, values_of, with_new_values

CONDITIONS = (
    ("visible_when", "Show only when", "condition"),
    ("required_when", "Required when", "condition"),
    ("read_only_when", "Read only when", "condition"),
)


def type_options(registry: FieldTypeRegistry) -> list[Option]:
    return sorted((Option(t.name, humanize(t.name)) for t in registry.all()), key=lambda o: o.label)


def _editable(field_type: FieldType) -> bool:
    """Values people enter (not computed by Trellis)."""
    return field_type.stored and not field_type.computed


def _rule_controls(field_type: FieldType) -> list[Control]:
    controls = []
    if _editable(field_type):
        controls.append(
            Control("required", "Required", "checkbox", help="A record cannot be saved without it.")
        )
    if field_type.sortable and not field_type.computed and field_type.sql_type is not None:
        controls.append(
            Control("unique", "Unique", "checkbox", help="No two records share a value.")
        )
        controls.append(
            Control("indexed", "Indexed", "checkbox", help="Quick to filter and sort by.")
        )
    if field_type.usable_as_external_id and _editable(field_type):
        controls.append(
            Control(
                "external_id",
                "External ID",
                "checkbox",
                help="Another system's key for the record: unique, and the API upserts by it.",
            )
        )
    if _editable(field_type):
        controls.append(
            Control(
                "read_only", "Read only", "checkbox", help="Shown on forms, never edited there."
            )
        )
        # A default is typed as text: not for a reference to a record.
        if getattr(field_type, "accepts_default", True) and not field_type.references_records:
            controls.append(
                Control("default", "Default value", "text", help="What a new record starts with.")
            )
    return controls


def _condition_controls(field_type: FieldType, obj: ObjectSchema) -> list[Control]:
    shown = CONDITIONS if _editable(field_type) else CONDITIONS[:1]
    return [
        Control(
            name,
            label,
            "formula",
            help="A checkbox formula over the record; leave blank for always.",
            formula_object=obj.api_name,
            purpose=purpose,
        )
        for name, label, purpose in shown
    ]


@dataclasses.dataclass
class FieldForm:
    schema: TenantSchema
    obj: ObjectSchema
    registry: FieldTypeRegistry
    # The field as saved, None for a new one.
    existing: dict[str, Any] | None
    type_name: str
    basics: list[Control]
    settings: list[Control]
    rules: list[Control]
    conditions: list[Control]
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def field_type(self) -> FieldType:
        return self.registry.get(self.type_name)

    @property
    def type_changed(self) -> bool:
        return self.existing is not None and self.existing["type"] != self.type_name

    @property
    def sections(self) -> list[tuple[str, list[Control]]]:
        named = [
            ("Field", self.basics),
            (f"{humanize(self.type_name)} settings", self.settings),
            ("Rules", self.rules),
            ("Conditions", self.conditions),
        ]
        return [(title, controls) for title, controls in named if controls]

    def controls(self) -> list[Control]:
        return [control for _, controls in self.sections for control in controls]

    def control(self, name: str) -> Control | None:
        return next((c for c in self.controls() if c.name == name), None)


def build_form(
    schema: TenantSchema,
    obj: ObjectSchema,
    registry: FieldTypeRegistry,
    existing: dict[str, Any] | None,
    type_name: str,
) -> FieldForm:
    """The empty form of a ``type_name`` field (its controls, no values yet)."""
    field_type = registry.get(type_name)
    basics = [
        Control("label", "Label", "text", required=True, max_length=80),
        Control(
            "api_name",
            "API name",
            "static" if existing else "text",
            help="How formulas and the API name the field; it cannot change later.",
            max_length=63,
        ),
        Control("type", "Type", "select", type_name, required=True, options=type_options(registry)),
        Control(
            "help_text",
            "Help text",
            "textarea",
            help="Shown under the field on forms.",
            max_length=1000,
        ),
        Control("description", "Description", "textarea", help="For admins only.", max_length=2000),
    ]
    settings = [
        property_control(field_type, name, spec, schema, obj)
        for name, spec in field_type.properties.items()
    ]
    same_type = existing is not None and existing["type"] == type_name
    for control in settings:
        if same_type and control.name == "target" and field_type.references_records:
            control.kind = "static"  # a lookup's target cannot change (the service says so)
    return FieldForm(
        schema,
        obj,
        registry,
        existing,
        type_name,
        basics,
        settings,
        _rule_controls(field_type),
        _condition_controls(field_type, obj),
    )


def fill(form: FieldForm, field: dict[str, Any]) -> None:
    """Show a definition (saved, or a new field's defaults) on the form."""
    specs = form.field_type.properties
    for control in form.controls():
        if control.name == "type":
            continue  # the form's type, chosen before filling it
        if control.kind == "values":
            control.rows = rows_of(field.get(control.name) or [])
        elif control.name in field:
            value = field[control.name]
            control.value = value if control.kind == "checkbox" else _text(value)
        elif control.name in specs and form.existing is None:
            control.value = _text(initial_value(specs[control.name]))
    _aim_filter(form)


def common_part(field: dict[str, Any]) -> dict[str, Any]:
    """What a field keeps when its type changes: the properties every type has."""
    common = object_meta_schema()["$defs"]["field_common"]
    return {key: value for key, value in field.items() if key in common}


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _aim_filter(form: FieldForm) -> None:
    """An aggregate's filter is a formula over the summarised object."""
    summarised = form.control("summarized_object")
    for control in form.settings:
        if control.kind == "formula" and control.formula_object is None:
            control.formula_object = str(summarised.value) if summarised else form.obj.api_name


def read(form: FieldForm, posted: MultiDict[str, str]) -> dict[str, Any]:
    """The definition the posted form makes; shows the posted values on the form, and
    notes on its controls the values that are not even well-formed (a word for a number)."""
    field: dict[str, Any] = {"type": form.type_name}
    for control in form.controls():
        if control.name == "type":
            control.value = form.type_name
            continue
        if control.kind == "static":
            # Shown, not changed (a lookup's target): saved as it is.
            kept = (form.existing or {}).get(control.name)
            control.value = _text(kept)
            if kept is not None:
                field[control.name] = kept
            continue
        value = _read_control(control, posted)
        if value is not None:
            field[control.name] = value
    if form.existing is not None:
        field["api_name"] = form.existing["api_name"]
        field = {**_kept(form), **field}
    elif not field.get("api_name"):
        field["api_name"] = api_name_from(str(field.get("label", "")))
    _aim_filter(form)
    return field


def _read_control(control: Control, posted: MultiDict[str, str]) -> Any:
    if control.kind == "checkbox":
        control.value = posted.get(control.name) in {"on", "true", "1"}
        return True if control.value else None
    if control.kind == "values":
        rows, new_text = read_rows(posted, control.name)
        # Typed values become rows: shown again, they can be ordered like the others.
        control.rows = [row for row in with_new_values(rows, new_text) if row.value]
        return values_of(control.rows) or None
    text = posted.get(control.name, "").strip()
    control.value = text
    if not text:
        return None
    if control.kind == "integer":
        if not text.lstrip("-").isdigit() or len(text) > 12:
            control.errors.append("Enter a whole number.")
            return None
        return int(text)
    return text.replace("\r\n", "\n")


def _kept(form: FieldForm) -> dict[str, Any]:
    """What the saved definition holds that the form does not manage; on a type change
    only the common properties (the old type's would be refused by the new one)."""
    existing = form.existing or {}
    managed = {control.name for control in form.controls()} | set(form.field_type.properties)
    common = object_meta_schema()["$defs"]["field_common"]
    return {
        key: value
        for key, value in existing.items()
        if key not in managed and (not form.type_changed or key in common)
    }


def show_errors(form: FieldForm, errors: dict[str, list[str]], message: str) -> None:
    """Put the service's errors (keyed ``fields.<Name>.<property>``, ``fields.<Name>`` or
    an object's key) next to their controls; the rest go to the form's summary."""
    for key, messages in errors.items():
        prop = _property_of(key, form)
        for text in messages:
            target = form.control(prop) if prop else _named_in(text, form)
            if target is not None:
                target.errors.append(text)
            else:
                form.problems.append(text)
    if not errors:
        form.problems.append(message)


def _property_of(key: str, form: FieldForm) -> str | None:
    parts = key.split(".")
    if len(parts) >= 3 and parts[0] == "fields" and form.control(parts[2]) is not None:
        return parts[2]
    if len(parts) == 1 and form.control(key) is not None:
        return key
    return None


def _named_in(text: str, form: FieldForm) -> Control | None:
    """A type's own check names its property first ("scale (3) cannot...", "values: ...")."""
    head = text.split(":", 1)[0].split(" ", 1)[0]
    return form.control(head)


def has_errors(form: FieldForm) -> bool:
    return bool(form.problems) or any(control.errors for control in form.controls())
