"""The create form and the settings form of an object: what they show and the definition
a submitted form makes. A new object starts with its name field (a type that is
``usable_as_name``, text unless the admin picks another, with that type's required
properties); a saved one picks its name field among its fields."""

from __future__ import annotations

import dataclasses
from typing import Any

from werkzeug.datastructures import MultiDict

from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.field_types import FieldTypeRegistry
from trellis.views.setup.field_controls import Control, Option, property_control
from trellis.views.setup.naming import SHARING_MODELS, api_name_from, humanize

DEFAULT_SHARING = "read_write"


@dataclasses.dataclass
class ObjectForm:
    controls: list[Control]
    name_type: str | None = None
    problems: list[str] = dataclasses.field(default_factory=list)

    def control(self, name: str) -> Control | None:
        return next((c for c in self.controls if c.name == name), None)

    def values(self) -> dict[str, Any]:
        return {c.name: c.value for c in self.controls}

    def refuse_blank_label(self) -> bool:
        """Note a blank label on its control (the service would only say "too short");
        whether it was blank."""
        label = self.control("label")
        if label is None or label.value:
            return False
        label.errors.append("Give the object a label.")
        return True


def _sharing(value: str) -> Control:
    return Control(
        "sharing_model",
        "Sharing",
        "select",
        value=value,
        required=True,
        help="Who may see and change a record besides its owner and those above them.",
        options=[Option(key, label) for key, label in SHARING_MODELS.items()],
    )


def _common(definition: dict[str, Any]) -> list[Control]:
    return [
        Control(
            "label", "Label", "text", definition.get("label", ""), required=True, max_length=80
        ),
        Control(
            "plural_label",
            "Plural label",
            "text",
            definition.get("plural_label", ""),
            help="Shown in the navigation and on lists; the label when blank.",
            max_length=80,
        ),
    ]


def name_types(registry: FieldTypeRegistry) -> list[Option]:
    return sorted(
        (Option(t.name, humanize(t.name)) for t in registry.all() if t.usable_as_name),
        key=lambda option: option.label,
    )


def create_form(
    schema: TenantSchema, registry: FieldTypeRegistry, name_type: str, posted: MultiDict[str, str]
) -> ObjectForm:
    """The create form, showing ``posted`` (empty for a fresh form)."""
    controls = [
        *_common({}),
        Control(
            "api_name",
            "API name",
            "text",
            help="Suggested from the label; it cannot change later.",
            max_length=63,
        ),
        Control("description", "Description", "textarea", max_length=2000),
        Control(
            "name_label",
            "Name field label",
            "text",
            help="What names each record, e.g. Project name.",
            max_length=80,
        ),
        Control(
            "name_type",
            "Name field type",
            "select",
            name_type,
            required=True,
            options=name_types(registry),
        ),
    ]
    field_type = registry.get(name_type)
    # The name field's own required properties (an auto-number's format), by the
    # same controls the field form uses, prefixed so they keep apart from the object's.
    for prop in field_type.required_properties:
        control = property_control(field_type, prop, field_type.properties[prop], schema, None)
        control.name = f"name_{prop}"
        controls.append(control)
    controls.append(_sharing(DEFAULT_SHARING))
    form = ObjectForm(controls, name_type)
    for control in controls:
        if control.name in posted and control.name != "name_type":
            control.value = posted.get(control.name, "").strip()
    return form


def created_definition(form: ObjectForm, registry: FieldTypeRegistry) -> dict[str, Any]:
    values = form.values()
    label = str(values["label"])
    definition: dict[str, Any] = {
        "api_name": str(values["api_name"]) or api_name_from(label),
        "label": label,
        "sharing_model": values["sharing_model"] or DEFAULT_SHARING,
    }
    for key in ("plural_label", "description"):
        if values[key]:
            definition[key] = values[key]
    assert form.name_type is not None
    name_field: dict[str, Any] = {
        "api_name": "Name",
        "label": str(values["name_label"]) or f"{label} name".strip(),
        "type": form.name_type,
    }
    if registry.get(form.name_type).stored and not registry.get(form.name_type).computed:
        name_field["required"] = True
    for key, value in values.items():
        if key.startswith("name_") and key not in {"name_label", "name_type"} and value:
            name_field[key.removeprefix("name_")] = _typed(value)
    definition["fields"] = [name_field]
    definition["name_field"] = "Name"
    return definition


def _typed(value: Any) -> Any:
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 12 else text


def settings_form(obj: ObjectSchema) -> ObjectForm:
    """The settings of a saved object, as it is."""
    definition = obj.definition
    nameable = [
        Option(f.api_name, str(f.definition.get("label") or f.api_name))
        for f in obj.fields.values()
        if f.type.usable_as_name and not f.definition.get("deleted")
    ]
    parents = [
        Option(f.api_name, str(f.definition.get("label") or f.api_name))
        for f in obj.lookups()
        if f.definition.get("required") and not f.definition.get("deleted")
    ]
    controls = [
        *_common(definition),
        Control(
            "description",
            "Description",
            "textarea",
            definition.get("description", ""),
            max_length=2000,
        ),
        Control(
            "name_field",
            "Name field",
            "select",
            obj.name_field if nameable else "",
            options=nameable,
            help="The text that names each record.",
        ),
        _sharing(str(definition.get("sharing_model") or DEFAULT_SHARING)),
    ]
    # A parent is a required lookup: offered once the object has one (or names one).
    if parents or definition.get("sharing_parent"):
        controls.append(
            Control(
                "sharing_parent",
                "Parent (for controlled by parent)",
                "select",
                definition.get("sharing_parent", ""),
                options=parents,
                help="A required lookup: its record's access is this record's access.",
            )
        )
    return ObjectForm(controls)


def read_settings(form: ObjectForm, posted: MultiDict[str, str]) -> None:
    for control in form.controls:
        control.value = posted.get(control.name, "").strip()


def changed_definition(obj: ObjectSchema, form: ObjectForm) -> dict[str, Any]:
    """The object's definition with the form's settings; blank optional ones removed."""
    definition = dict(obj.definition)
    for key, value in form.values().items():
        if value:
            definition[key] = value
        else:
            definition.pop(key, None)
    if definition.get("sharing_model") != "controlled_by_parent":
        definition.pop("sharing_parent", None)
    return definition


def show_errors(form: ObjectForm, errors: dict[str, list[str]], message: str) -> None:
    """The service's errors next to their controls (a name field's under ``fields.Name``
    on the create form), the rest in the summary."""
    for key, messages in errors.items():
        parts = key.split(".")
        name = parts[0]
        if len(parts) >= 3 and parts[0] == "fields":
            name = "name_label" if parts[2] == "label" else f"name_{parts[2]}"
        target = form.control(name)
        for text in messages:
            (target.errors if target else form.problems).append(text)
    if not errors:
        form.problems.append(message)
