"""The controls of the field form, one per property, chosen from the field type's JSON
Schema ``properties`` and its capabilities, never from its name: an ``enum`` is a
select, an integer a number input, a boolean a checkbox, a list of values the values
editor; a type that ``references_records`` picks its ``target`` among the objects, an
``aggregates`` type its summarised object, lookup and field among the objects that look
up to this one, and a type that is not ``stored`` writes its ``expression`` (and an
aggregate its ``filter``) as a formula. A plugin type gets the same treatment.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.field_types import FieldType
from trellis.views.setup.naming import option_label, property_label


@dataclasses.dataclass(frozen=True)
class Option:
    value: str
    label: str
    group: str | None = None


@dataclasses.dataclass
class ValueRow:
    """One value of a list of choices, as the values editor holds it."""

    key: str
    value: str
    label: str
    active: bool


@dataclasses.dataclass
class Control:
    """One property on the form. ``kind``: text, textarea, integer, select, checkbox,
    formula, values or static (shown, not changed)."""

    name: str
    label: str
    kind: str
    value: Any = ""
    help: str | None = None
    required: bool = False
    options: list[Option] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    # A formula's object (data-object for the formula editor) and purpose.
    formula_object: str | None = None
    purpose: str | None = None
    rows: list[ValueRow] = dataclasses.field(default_factory=list)
    new_values: str = ""
    # What a select's empty choice says (an optional select only).
    blank: str = "None"
    # The control naming a formula's object when it is not this field's (a roll-up's
    # filter is over the summarised object): the script follows its choice.
    object_from: str | None = None

    @property
    def id(self) -> str:
        return f"field-{self.name}"

    @property
    def grouped(self) -> dict[str | None, list[Option]]:
        groups: dict[str | None, list[Option]] = {}
        for option in self.options:
            groups.setdefault(option.group, []).append(option)
        return groups


def _label(obj: ObjectSchema) -> str:
    return str(obj.definition.get("label") or obj.api_name)


def _children(schema: TenantSchema, obj: ObjectSchema) -> list[tuple[ObjectSchema, Any]]:
    return sorted(
        schema.referencing_lookups(obj.api_name), key=lambda pair: _label(pair[0]).lower()
    )


def _object_options(schema: TenantSchema) -> list[Option]:
    objects = sorted(schema.objects.values(), key=lambda o: _label(o).lower())
    return [Option(o.api_name, f"{_label(o)} ({o.api_name})") for o in objects]


def _relation_options(schema: TenantSchema, obj: ObjectSchema, name: str) -> list[Option] | None:
    """Options of an aggregate's relation properties, from the objects that look up here."""
    children = _children(schema, obj)
    if name == "summarized_object":
        seen: dict[str, Option] = {}
        for child, _ in children:
            seen.setdefault(child.api_name, Option(child.api_name, _label(child)))
        return list(seen.values())
    if name == "relationship_field":
        return [
            Option(
                field.api_name, str(field.definition.get("label") or field.api_name), _label(child)
            )
            for child, field in children
        ]
    if name == "summarized_field":
        options = []
        for child in {child.api_name: child for child, _ in children}.values():
            for field in child.fields.values():
                if not field.definition.get("deleted"):
                    label = str(field.definition.get("label") or field.api_name)
                    options.append(Option(field.api_name, label, _label(child)))
        return options
    return None


def _enum_options(values: list[Any]) -> list[Option]:
    seen: dict[str, Option] = {}
    for value in values:
        seen.setdefault(str(value).lower(), Option(str(value), option_label(str(value))))
    return list(seen.values())


def property_control(
    field_type: FieldType,
    name: str,
    spec: dict[str, Any],
    schema: TenantSchema,
    obj: ObjectSchema | None,
) -> Control:
    """The control of property ``name`` (JSON Schema ``spec``) of ``field_type``, for a
    field of ``obj`` (None: of an object not created yet)."""
    control = Control(
        name,
        property_label(name),
        "text",
        help=spec.get("description"),
        required=name in field_type.required_properties,
        max_length=spec.get("maxLength"),
    )
    # The JSON Schema type of the property's values (integer, boolean...), not a field type.
    json_type = spec.get("type")
    relation = _relation_options(schema, obj, name) if field_type.aggregates and obj else None
    if (not field_type.stored and name == "expression") or (
        field_type.aggregates and name == "filter"
    ):
        control.kind, control.formula_object = "formula", obj.api_name if obj else None
        control.purpose = "formula_field" if name == "expression" else "filter"
        if name == "filter":
            control.formula_object = None  # over the summarised object: the form sets it
            control.object_from = "summarized_object"
    elif field_type.references_records and name == "target":
        control.kind, control.options = "select", _object_options(schema)
    elif relation is not None:
        control.kind, control.options = "select", relation
        if not relation and obj is not None:
            control.help = (
                f"No object looks up to {_label(obj)} yet: give one a lookup to it first."
            )
        elif name == "summarized_object" and obj is not None:
            control.help = f"An object whose records look up to {_label(obj)}."
    elif "enum" in spec:
        control.kind, control.options = "select", _enum_options(spec["enum"])
        if field_type.aggregates and name == "return_type":
            control.blank = "From the summarised field"
    elif json_type == "integer":
        control.kind, control.minimum, control.maximum = (
            "integer",
            spec.get("minimum"),
            spec.get("maximum"),
        )
    elif json_type == "boolean":
        control.kind = "checkbox"
    elif json_type == "array" and field_type.choices({name: []}) is not None:
        control.kind = "values"
    return control


def initial_value(spec: dict[str, Any]) -> Any:
    """A new field's value of a property: the schema's default, else blank."""
    default = spec.get("default")
    return "" if default is None else default
