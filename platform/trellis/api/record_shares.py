"""A record's shares: listed by anyone who may read the record; added and removed
(manual shares only) by its owner, those above the owner, or modify all."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis.access.manual_shares import add_share, list_shares, remove_share
from trellis.actor import Actor
from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.records.service import RecordService
from trellis.state import get_state


def _service(connection: Connection, actor: Actor, api_name: str) -> RecordService:
    schema = get_state().metadata_cache.get(connection, actor.tenant_id)
    return RecordService(connection, actor, schema, schema.object(api_name))


def list_record_shares(api_name: str, record_id: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        found = _service(connection, actor, api_name).locate(record_id)
        return jsonify({"data": list_shares(connection, found)})


def add_record_share(api_name: str, record_id: str) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        found = service.locate(record_id, permission="delete")
        share = add_share(connection, actor, service.schema, service.obj, found, body)
        return jsonify(share), 201


def remove_record_share(api_name: str, record_id: str, principal: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        service = _service(connection, actor, api_name)
        found = service.locate(record_id, permission="delete")
        remove_share(connection, actor, service.obj, found, principal)
    return "", 204


def register(blueprint: Blueprint) -> None:
    path = "/objects/<api_name>/records/<record_id>/shares"
    blueprint.add_url_rule(path, view_func=list_record_shares, methods=["GET"])
    blueprint.add_url_rule(path, view_func=add_record_share, methods=["POST"])
    blueprint.add_url_rule(f"{path}/<principal>", view_func=remove_record_share, methods=["DELETE"])
