"""The automation builder's state between requests: the automation a posted form holds
(its settings and its ordered actions, each remembering where it stood when loaded, so
a moved action keeps its secrets), the builder's own buttons (add, move, remove an
action), and a refused save's errors placed at their setting or action property."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from trellis.automation.action_schemas import ActionKind, action_errors
from trellis.metadata.secrets import SECRET_MASK
from trellis.views.setup import automation_controls
from trellis.views.setup.naming import api_name_from

# The automation's own settings, as the form names them.
TEXT_SETTINGS = ("api_name", "label", "description", "schedule", "timezone")
FORMULA_SETTINGS = ("condition", "filter")
CHOICE_SETTINGS = ("trigger", "timing", "run_as")
SETTINGS = (*TEXT_SETTINGS, *FORMULA_SETTINGS, *CHOICE_SETTINGS, "order", "active")
FLAGS = ("only_when_changed_to_meet",)
MOVES = re.compile(r"^(up|down|remove)-(\d+)$")
# "automations.<name or position>.<rest>" in a metadata service error.
PLACE = re.compile(r"^automations\.[^.]+\.(.+)$")
ACTION_PLACE = re.compile(r"^actions\.(\d+)(?:\.(.+))?$")


@dataclasses.dataclass
class BuilderAction:
    type: str
    # Its position in the stored automation; None for an action added here.
    origin: int | None
    values: dict[str, Any]
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # An action of a type no longer installed: no form; kept as stored (see keep_opaque).
    opaque: bool = False

    def definition(self) -> dict[str, Any]:
        return {"type": self.type, **self.values}


@dataclasses.dataclass
class Builder:
    object_name: str
    settings: dict[str, Any]
    actions: list[BuilderAction]
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)

    def definition(self) -> dict[str, Any]:
        return {**self.settings, "actions": [action.definition() for action in self.actions]}

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.problems or any(a.errors for a in self.actions))


def loaded(
    object_name: str, automation: Mapping[str, Any], kinds: Mapping[str, ActionKind]
) -> Builder:
    """The builder over a stored automation (as shown: secrets masked)."""
    settings = {key: value for key, value in automation.items() if key != "actions"}
    actions = [
        BuilderAction(
            str(action["type"]),
            index,
            {k: v for k, v in action.items() if k != "type"},
            opaque=action["type"] not in kinds,
        )
        for index, action in enumerate(automation.get("actions", []))
    ]
    return Builder(object_name, settings, actions)


def keep_opaque(builder: Builder, stored: Mapping[str, Any] | None) -> None:
    """An action whose type is not installed is saved as it was stored, wherever it
    was moved (the service lets an unchanged one through)."""
    stored_actions = (stored or {}).get("actions", [])
    for action in builder.actions:
        origin = action.origin
        if action.opaque and origin is not None and origin < len(stored_actions):
            before = stored_actions[origin]
            action.values = {k: v for k, v in before.items() if k != "type"}


def posted(form: Mapping[str, str], kinds: Mapping[str, ActionKind]) -> Builder:
    """The builder a posted form holds; entries a control cannot take are errors."""
    settings: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key in (*TEXT_SETTINGS, *FORMULA_SETTINGS, *CHOICE_SETTINGS):
        raw = form.get(key, "")
        if raw.strip():
            settings[key] = raw.strip() if key not in FORMULA_SETTINGS else raw
    if form.get("order", "").strip():
        try:
            settings["order"] = int(form["order"])
        except ValueError:
            errors["order"] = ["Enter a whole number."]
    settings["active"] = bool(form.get("active"))
    for flag in FLAGS:
        if form.get(flag):
            settings[flag] = True
    actions = []
    for index in range(_count(form)):
        prefix = f"actions-{index}"
        name = form.get(f"{prefix}-type", "")
        raw_origin = form.get(f"{prefix}-origin", "")
        origin = int(raw_origin) if raw_origin.isdigit() else None
        kind = kinds.get(name)
        if kind is None:
            if origin is not None:
                actions.append(BuilderAction(name, origin, {}, opaque=True))
            continue
        values, problems = automation_controls.parse(kind.schema, form, prefix)
        actions.append(BuilderAction(kind.name, origin, values, problems))
    return Builder(form.get("object", ""), settings, actions, errors)


def _count(form: Mapping[str, str]) -> int:
    raw = form.get("action_count", "0")
    return min(int(raw), 50) if raw.isdigit() else 0


def apply(builder: Builder, operation: str, new_type: str, kinds: Mapping[str, ActionKind]) -> bool:
    """Do a builder button's work on ``builder``; False when ``operation`` is not one."""
    if operation == "add":
        if new_type in kinds:
            builder.actions.append(BuilderAction(new_type, None, {}))
        return True
    move = MOVES.match(operation)
    if move is None:
        return operation == "refresh"
    where, index = move.group(1), int(move.group(2))
    if index >= len(builder.actions):
        return True
    if where == "remove":
        builder.actions.pop(index)
    else:
        other = index - 1 if where == "up" else index + 1
        if 0 <= other < len(builder.actions):
            actions = builder.actions
            actions[index], actions[other] = actions[other], actions[index]
    return True


def checked(builder: Builder, kinds: Mapping[str, ActionKind]) -> bool:
    """Check each action against its own type's schema, so a problem is shown at its
    property; True when nothing is wrong so far (the service then checks everything)."""
    _name_from_label(builder)
    if not builder.actions:
        builder.errors.setdefault("actions", []).append("Add at least one action.")
    for action in builder.actions:
        if action.opaque:
            continue
        for path, messages in action_errors(kinds[action.type], action.definition(), "").items():
            # An error about the action as a whole comes keyed "definition".
            action.errors.setdefault("" if path == "definition" else path, []).extend(messages)
    return not builder.has_errors


def _name_from_label(builder: Builder) -> None:
    """An automation left without an API name takes one made from its label, as
    api_names.js suggests while the label is typed; with neither, say so at the name."""
    if builder.settings.get("api_name"):
        return
    name = api_name_from(str(builder.settings.get("label", "")))
    if name:
        builder.settings["api_name"] = name
    else:
        builder.errors.setdefault("api_name", []).append(
            "Enter an API name, or a label to make it from."
        )


def carry_secrets(builder: Builder, stored: Mapping[str, Any] | None, secrets: Any) -> None:
    """A masked secret of an action that moved is taken from where it was stored (the
    service keeps a mask by position, and positions changed)."""
    stored_actions = (stored or {}).get("actions", [])
    for index, action in enumerate(builder.actions):
        origin = action.origin
        if origin is None or origin == index or origin >= len(stored_actions):
            continue
        before = stored_actions[origin]
        if action.opaque or before.get("type") != action.type:
            continue
        for key in secrets(action.type):
            if action.values.get(key, SECRET_MASK) == SECRET_MASK and key in before:
                action.values[key] = before[key]


def place_errors(builder: Builder, fields: Mapping[str, list[str]], message: str) -> None:
    """Put a refused save's errors at their setting or action property; the rest, and
    the message when nothing else says what is wrong, in the summary."""
    for key, messages in fields.items():
        match = PLACE.match(key)
        rest = match.group(1) if match else key
        action = ACTION_PLACE.match(rest)
        if action and int(action.group(1)) < len(builder.actions):
            target = builder.actions[int(action.group(1))].errors
            target.setdefault(action.group(2) or "", []).extend(messages)
        elif rest in (*SETTINGS, *FLAGS, "object"):
            builder.errors.setdefault(rest, []).extend(messages)
        else:
            builder.problems.extend(messages)
    if not builder.has_errors:
        builder.problems.append(message)
