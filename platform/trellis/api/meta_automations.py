"""``/api/v1/meta/automations``: automations, stored (and versioned) with their object
(:mod:`trellis.automation.definitions` does the work, for the Setup screens too)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from trellis.api.context import metadata_service, tenant_transaction
from trellis.api.request import json_body
from trellis.automation import definitions


def list_automations() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        found = definitions.ordered_automations(service)
        return jsonify({"data": [definitions.automation_json(service, *item) for item in found]})


def create_automation() -> ResponseReturnValue:
    body = json_body()
    definition = {key: value for key, value in body.items() if key != "object"}
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        saved = definitions.create_automation(service, body.get("object"), definition)
    return jsonify(saved), 201


def get_automation(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        found = definitions.find_automation(service, api_name)
        return jsonify(definitions.automation_json(service, *found))


def replace_automation(api_name: str) -> ResponseReturnValue:
    body = json_body()
    definition = {key: value for key, value in body.items() if key != "object"}
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        saved = definitions.replace_automation(service, api_name, body.get("object"), definition)
        return jsonify(saved)


def delete_automation(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor, "manage_automations")
        definitions.delete_automation(service, api_name)
    return "", 204


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    rule("/meta/automations", view_func=list_automations, methods=["GET"])
    rule("/meta/automations", view_func=create_automation, methods=["POST"])
    rule("/meta/automations/<api_name>", view_func=get_automation, methods=["GET"])
    rule("/meta/automations/<api_name>", view_func=replace_automation, methods=["PUT"])
    rule("/meta/automations/<api_name>", view_func=delete_automation, methods=["DELETE"])
