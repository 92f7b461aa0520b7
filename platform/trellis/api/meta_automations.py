"""``/api/v1/meta/automations``: automations, stored (and versioned) with their object."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from trellis.actor import Actor
from trellis.api.context import metadata_service, tenant_transaction
from trellis.api.request import json_body
from trellis.automation.cycles import cycle_warnings
from trellis.errors import Conflict, Forbidden, NotFound, ValidationError
from trellis.metadata.secrets import redact_automation
from trellis.metadata.service import MetadataService


def _all(service: MetadataService) -> list[tuple[str, dict[str, Any]]]:
    return [
        (obj.api_name, automation)
        for obj in service.schema().objects.values()
        for automation in obj.definition.get("automations", [])
    ]


def _find(service: MetadataService, api_name: str) -> tuple[str, dict[str, Any]]:
    for object_name, automation in _all(service):
        if automation["api_name"].lower() == api_name.lower():
            return object_name, automation
    raise NotFound(f"No automation {api_name!r}.")


def _json(service: MetadataService, object_name: str, automation: dict[str, Any]) -> dict[str, Any]:
    """An automation as the API shows it: its actions' secrets masked."""
    return {"object": object_name, **redact_automation(service.schema().actions, automation)}


def _saved_json(service: MetadataService, api_name: str) -> dict[str, Any]:
    """A saved automation, with ``warnings``: loops through it that only its conditions
    end (unguarded loops are refused when saving)."""
    name, saved = _find(service, api_name)
    return {
        **_json(service, name, saved),
        "warnings": cycle_warnings(service.schema(), saved["api_name"]),
    }


def _save(
    service: MetadataService, object_name: str, automations: list[dict[str, Any]], message: str
) -> None:
    obj = service.get_object(object_name)
    service.replace_object(
        obj.api_name, {**obj.definition, "automations": automations}, message=message
    )


def list_automations() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        found = sorted(
            _all(service), key=lambda item: (item[1].get("order", 0), item[1]["api_name"])
        )
        return jsonify({"data": [_json(service, name, a) for name, a in found]})


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


def create_automation() -> ResponseReturnValue:
    body = json_body()
    if not isinstance(body.get("object"), str):
        raise ValidationError("Name the automation's object.", fields={"object": "Required."})
    definition = {key: value for key, value in body.items() if key != "object"}
    with tenant_transaction() as (connection, actor):
        _owned_by_author(definition, actor)
        service = metadata_service(connection, actor, "manage_automations")
        if any(
            a["api_name"].lower() == str(definition.get("api_name", "")).lower()
            for _, a in _all(service)
        ):
            raise Conflict(
                "Another automation has this name.", fields={"api_name": "Already taken."}
            )
        obj = service.get_object(body["object"])
        _save(
            service,
            obj.api_name,
            [*obj.definition.get("automations", []), definition],
            f"Add automation {definition.get('api_name')}",
        )
        body = _saved_json(service, definition["api_name"])
    return jsonify(body), 201


def get_automation(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        return jsonify(_json(service, *_find(service, api_name)))


def replace_automation(api_name: str) -> ResponseReturnValue:
    body = json_body()
    definition = {key: value for key, value in body.items() if key != "object"}
    with tenant_transaction() as (connection, actor):
        _owned_by_author(definition, actor)
        service = metadata_service(connection, actor, "manage_automations")
        object_name, current = _find(service, api_name)
        if (
            body.get("object", object_name).lower() != object_name.lower()
            or definition.get("api_name", current["api_name"]) != current["api_name"]
        ):
            raise ValidationError("An automation's object and api_name cannot change.")
        definition["api_name"] = current["api_name"]
        automations = [
            definition if a is current else a
            for a in service.get_object(object_name).definition["automations"]
        ]
        _save(service, object_name, automations, f"Change automation {current['api_name']}")
        return jsonify(_saved_json(service, api_name))


def delete_automation(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        object_name, current = _find(service, api_name)
        automations = [
            a for a in service.get_object(object_name).definition["automations"] if a is not current
        ]
        _save(service, object_name, automations, f"Delete automation {current['api_name']}")
    return "", 204


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/meta/automations", view_func=list_automations, methods=["GET"])
    rule("/meta/automations", view_func=create_automation, methods=["POST"])
    rule("/meta/automations/<api_name>", view_func=get_automation, methods=["GET"])
    rule("/meta/automations/<api_name>", view_func=replace_automation, methods=["PUT"])
    rule("/meta/automations/<api_name>", view_func=delete_automation, methods=["DELETE"])
