"""``/api/v1/objects/<api_name>/list-views``: the list views of an object, the same ones
the list screen offers (trellis.records.list_view_store).

Anyone who may read the object lists its views and saves private ones; shared views
need the manage_metadata right. A view comes as its reader sees it: without the columns
and filters field-level security hides from them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.api.context import tenant_transaction
from trellis.api.request import json_body
from trellis.metadata.compiled import ObjectSchema
from trellis.records import list_view_store
from trellis.records.list_view_checks import for_reader
from trellis.state import get_state


@contextlib.contextmanager
def _object(api_name: str) -> Iterator[tuple[Connection, Access, ObjectSchema]]:
    with tenant_transaction() as (connection, actor):
        schema = get_state().metadata_cache.get(connection, actor.tenant_id)
        access = Access.of(actor, schema)
        obj = schema.object(api_name)
        access.rights.require(obj.api_name, "read", str(obj.definition["label"]))
        yield connection, access, obj


def list_views_view(api_name: str) -> ResponseReturnValue:
    """The object's list views the caller may use."""
    with _object(api_name) as (connection, access, obj):
        views = list_view_store.visible_views(connection, access, obj)
        data = [for_reader(obj, access.schema, access, view).to_json() for view in views]
    return jsonify({"data": data})


def create_list_view(api_name: str) -> ResponseReturnValue:
    body = json_body()
    with _object(api_name) as (connection, access, obj):
        view = list_view_store.create_view(connection, access, obj, body)
    return jsonify(view.to_json()), 201


def get_list_view(api_name: str, view_name: str) -> ResponseReturnValue:
    with _object(api_name) as (connection, access, obj):
        view = list_view_store.reader_view(connection, access, obj, view_name)
    return jsonify(view.to_json())


def update_list_view(api_name: str, view_name: str) -> ResponseReturnValue:
    body = json_body()
    with _object(api_name) as (connection, access, obj):
        view = list_view_store.update_view(connection, access, obj, view_name, body)
        shown = for_reader(obj, access.schema, access, view)
    return jsonify(shown.to_json())


def delete_list_view(api_name: str, view_name: str) -> ResponseReturnValue:
    with _object(api_name) as (connection, access, obj):
        list_view_store.delete_view(connection, access, obj, view_name)
    return "", 204


def register(blueprint: Blueprint) -> None:
    rule = blueprint.add_url_rule
    base = "/objects/<api_name>/list-views"
    rule(base, view_func=list_views_view, methods=["GET"])
    rule(base, view_func=create_list_view, methods=["POST"])
    rule(f"{base}/<view_name>", view_func=get_list_view, methods=["GET"])
    rule(f"{base}/<view_name>", view_func=update_list_view, methods=["PATCH"])
    rule(f"{base}/<view_name>", view_func=delete_list_view, methods=["DELETE"])
