"""Automations as stored with their object: reading, adding, changing, reordering and
deleting them through the metadata service, so every change is validated, versioned as
a revision and audited. The automations API and the Setup screens both call these."""

from __future__ import annotations

from typing import Any

from trellis.actor import Actor
from trellis.automation.cycles import cycle_warnings
from trellis.errors import Conflict, Forbidden, NotFound, ValidationError
from trellis.metadata.secrets import redact_automation
from trellis.metadata.service import MetadataService


def all_automations(service: MetadataService) -> list[tuple[str, dict[str, Any]]]:
    """Every automation as (object api_name, stored definition), secrets included."""
    return [
        (obj.api_name, automation)
        for obj in service.schema().objects.values()
        for automation in obj.definition.get("automations", [])
    ]


def ordered_automations(service: MetadataService) -> list[tuple[str, dict[str, Any]]]:
    """Every automation in the order they run: lower ``order`` first, then by name."""
    return sorted(
        all_automations(service), key=lambda item: (item[1].get("order", 0), item[1]["api_name"])
    )


def find_automation(service: MetadataService, api_name: str) -> tuple[str, dict[str, Any]]:
    for object_name, automation in all_automations(service):
        if automation["api_name"].lower() == api_name.lower():
            return object_name, automation
    raise NotFound(f"No automation {api_name!r}.")


def automation_json(
    service: MetadataService, object_name: str, automation: dict[str, Any]
) -> dict[str, Any]:
    """An automation as it may be shown: its actions' secrets masked."""
    return {"object": object_name, **redact_automation(service.schema().actions, automation)}


def saved_json(service: MetadataService, api_name: str) -> dict[str, Any]:
    """A saved automation, with ``warnings``: loops through it that only its conditions
    end (unguarded loops are refused when saving)."""
    name, saved = find_automation(service, api_name)
    return {
        **automation_json(service, name, saved),
        "warnings": cycle_warnings(service.schema(), saved["api_name"]),
    }


def _save(
    service: MetadataService, object_name: str, automations: list[dict[str, Any]], message: str
) -> None:
    obj = service.get_object(object_name)
    service.replace_object(
        obj.api_name, {**obj.definition, "automations": automations}, message=message
    )


def _owned_by_author(definition: dict[str, Any], actor: Actor) -> None:
    """An automation that runs as its owner is owned by whoever saves it, unless an
    administrator names another user: no one lends themselves another's rights."""
    if definition.get("run_as") != "owner":
        return
    definition.setdefault("owner_id", str(actor.user_id) if actor.user_id else None)
    if not actor.is_admin and definition["owner_id"] != str(actor.user_id):
        raise Forbidden(
            "Only an administrator can make an automation run as someone else.",
            fields={"owner_id": "Leave it out: the automation runs as you."},
        )


def create_automation(
    service: MetadataService, object_name: Any, definition: dict[str, Any]
) -> dict[str, Any]:
    """Add ``definition`` to ``object_name``'s automations; the saved automation's JSON."""
    if not isinstance(object_name, str):
        raise ValidationError("Name the automation's object.", fields={"object": "Required."})
    _owned_by_author(definition, service.actor)
    service.actor.require_right(service.right)
    if any(
        a["api_name"].lower() == str(definition.get("api_name", "")).lower()
        for _, a in all_automations(service)
    ):
        raise Conflict("Another automation has this name.", fields={"api_name": "Already taken."})
    obj = service.get_object(object_name)
    _save(
        service,
        obj.api_name,
        [*obj.definition.get("automations", []), definition],
        f"Add automation {definition.get('api_name')}",
    )
    return saved_json(service, definition["api_name"])


def replace_automation(
    service: MetadataService, api_name: str, object_name: Any, definition: dict[str, Any]
) -> dict[str, Any]:
    """Replace the automation ``api_name`` (its object and name stay)."""
    _owned_by_author(definition, service.actor)
    service.actor.require_right(service.right)
    stored_object, current = find_automation(service, api_name)
    if (
        str(object_name or stored_object).lower() != stored_object.lower()
        or definition.get("api_name", current["api_name"]) != current["api_name"]
    ):
        raise ValidationError("An automation's object and api_name cannot change.")
    definition["api_name"] = current["api_name"]
    automations = [
        definition if a is current else a
        for a in service.get_object(stored_object).definition["automations"]
    ]
    _save(service, stored_object, automations, f"Change automation {current['api_name']}")
    return saved_json(service, api_name)


def delete_automation(service: MetadataService, api_name: str) -> None:
    object_name, current = find_automation(service, api_name)
    automations = [
        a for a in service.get_object(object_name).definition["automations"] if a is not current
    ]
    _save(service, object_name, automations, f"Delete automation {current['api_name']}")


def set_active(service: MetadataService, api_name: str, active: bool) -> None:
    """Switch an automation on or off, the rest of it as stored."""
    object_name, current = find_automation(service, api_name)
    replace_automation(service, api_name, object_name, {**current, "active": active})


def move_automation(service: MetadataService, api_name: str, step: int) -> None:
    """Move an automation ``step`` places (-1 earlier, 1 later) among its object's, in
    run order; the object's automations are renumbered 10, 20, 30... in one revision."""
    object_name, current = find_automation(service, api_name)
    siblings = [a for name, a in ordered_automations(service) if name == object_name]
    names = [a["api_name"].lower() for a in siblings]
    position = names.index(current["api_name"].lower())
    target = max(0, min(len(names) - 1, position + step))
    names.insert(target, names.pop(position))
    order = {name: 10 * (index + 1) for index, name in enumerate(names)}
    automations = [
        {**a, "order": order[a["api_name"].lower()]}
        for a in service.get_object(object_name).definition["automations"]
    ]
    _save(service, object_name, automations, f"Reorder automations of {object_name}")
