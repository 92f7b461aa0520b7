"""The automation builder: a new automation or a stored one, its trigger, condition and
timing, and its ordered actions, each action's form generated from its type's schema.
Saving goes through :mod:`trellis.automation.definitions`, as the automations API does:
a refused save shows its errors at their setting or action (422) and saves nothing."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.automation import definitions
from trellis.automation.action_schemas import ActionKind, action_kinds
from trellis.errors import TrellisError
from trellis.metadata.documents import object_meta_schema
from trellis.metadata.service import MetadataService
from trellis.state import get_state
from trellis.views.setup import automation_builder as builder_state
from trellis.views.setup import automation_controls
from trellis.views.setup.automation_builder import Builder
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

RIGHT = "manage_automations"
# The builder is reached from the Automations section's list.
SECTIONS: tuple[Section, ...] = ()
NEW_AUTOMATION = {"trigger": "created", "timing": "after_save", "active": True}


def automations_service(current: Screen) -> MetadataService:
    return MetadataService(current.connection, current.actor, get_state().metadata_cache, RIGHT)


def setting_options() -> dict[str, list[str]]:
    """The choices of the automation's own settings, from the object meta-schema."""
    properties = object_meta_schema()["$defs"]["automation"]["properties"]
    return {key: list(properties[key]["enum"]) for key in builder_state.CHOICE_SETTINGS}


def _action_views(
    current: Screen, builder: Builder, kinds: dict[str, ActionKind], blank: int
) -> list[Any]:
    views = []
    for index, action in enumerate(builder.actions):
        kind = kinds.get(action.type) or ActionKind(
            action.type,
            action.type,
            "This action type is not installed: it is kept as it is.",
            {},
            (),
        )
        controls = automation_controls.controls(
            kind.schema, action.values, f"actions-{index}", kind.secrets, action.errors, blank
        )
        # Field names suggested for field-value maps: the action's object's, if it
        # names one, else the automation's.
        target = str(action.values.get("object") or builder.object_name)
        views.append(
            {
                "index": index,
                "action": action,
                "kind": kind,
                "controls": controls,
                "errors": action.errors.get("", []),
                "target": target if current.schema.objects.get(target.lower()) else "",
            }
        )
    return views


def _field_names(current: Screen) -> dict[str, list[str]]:
    return {
        obj.api_name: [name for name, field in obj.fields.items() if not field.type.computed]
        for obj in current.schema.objects.values()
    }


def render_builder(
    current: Screen,
    builder: Builder,
    editing: str | None,
    status: int = 200,
    blank: int = automation_controls.BLANK_ROWS,
) -> ResponseReturnValue:
    kinds = action_kinds(current.schema.actions)
    objects = sorted(current.schema.objects.values(), key=lambda obj: obj.api_name.lower())
    return (
        render_template(
            "setup/automations/form.html",
            builder=builder,
            editing=editing,
            kinds=kinds,
            actions=_action_views(current, builder, kinds, blank),
            objects=objects,
            field_names=_field_names(current),
            options=setting_options(),
        ),
        status,
    )


@blueprint.get("/automations/new")
def new_automation() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        first = request.args.get("object", "")
        kinds = action_kinds(current.schema.actions)
        builder = builder_state.loaded(first, NEW_AUTOMATION, kinds)
        return render_builder(current, builder, None)


@blueprint.get("/automations/<api_name>")
def edit_automation(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        service = automations_service(current)
        shown = definitions.automation_json(
            service, *definitions.find_automation(service, api_name)
        )
        kinds = action_kinds(current.schema.actions)
        builder = builder_state.loaded(shown.pop("object"), shown, kinds)
        return render_builder(current, builder, shown["api_name"])


@blueprint.post("/automations/new")
def create_automation() -> ResponseReturnValue:
    return _post(None)


@blueprint.post("/automations/<api_name>")
def save_automation(api_name: str) -> ResponseReturnValue:
    return _post(api_name)


def _post(editing: str | None) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        service = automations_service(current)
        stored = definitions.find_automation(service, editing)[1] if editing else None
        kinds = action_kinds(current.schema.actions)
        builder = builder_state.posted(request.form, kinds)
        if editing:
            builder.settings["api_name"] = stored["api_name"] if stored else editing
        operation = request.form.get("op", "save")
        if builder_state.apply(builder, operation, request.form.get("new_action", ""), kinds):
            # "More value rows" offers more blank rows than the usual two.
            more = 2 * automation_controls.BLANK_ROWS if operation == "refresh" else None
            return render_builder(
                current, builder, editing, blank=more or automation_controls.BLANK_ROWS
            )
        if not builder_state.checked(builder, kinds):
            return render_builder(current, builder, editing, 422)
        builder_state.keep_opaque(builder, stored)
        builder_state.carry_secrets(builder, stored, lambda name: kinds[name].secrets)
        definition = builder.definition()
        if stored is not None and stored.get("owner_id") and definition.get("run_as") == "owner":
            # The owner stays whoever it was; the service refuses a non-administrator.
            definition.setdefault("owner_id", stored["owner_id"])
        try:
            with current.connection.begin_nested():
                if editing:
                    saved = definitions.replace_automation(
                        service, editing, builder.object_name or None, definition
                    )
                else:
                    saved = definitions.create_automation(
                        service, builder.object_name or None, definition
                    )
        except TrellisError as error:
            builder_state.place_errors(builder, error.fields, error.message)
            # Refused as the API refuses it (403 for someone else's rights, 409 for a
            # taken name), invalid input as 422.
            return render_builder(
                current, builder, editing, 422 if error.status == 400 else error.status
            )
    flash(f"Saved automation {saved.get('label') or saved['api_name']}.")
    for warning in saved.get("warnings", []):
        flash(str(warning))
    return redirect(url_for("setup.edit_automation", api_name=saved["api_name"]), 303)
