"""Access administration: permission sets, roles, sharing settings per object, groups,
users' assignments, share recomputation progress and "why can this user see this"."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from trellis.access.assignments import assign, user_json
from trellis.access.definitions import AccessDefinitions
from trellis.access.explain import explain
from trellis.access.groups import delete_group, find_group, group_json, list_groups, save_group
from trellis.access.sharing_settings import SHARING_KEYS, replace_sharing_settings
from trellis.access.tables import share_recomputes
from trellis.api.context import metadata_service, tenant_transaction
from trellis.api.request import json_body
from trellis.errors import BadRequest, NotFound
from trellis.identity.users import create_user, get_user, list_users
from trellis.metadata.compiled import ObjectSchema
from trellis.records.users import sync_users
from trellis.state import get_state

KIND_PATHS = {"permission-sets": "permission_set", "roles": "role"}
ASSIGNMENT_KEYS = ("role", "permission_sets", "manager_id")


def _body_of(allowed: tuple[str, ...]) -> dict[str, Any]:
    """The JSON body, refused whole if it names a property outside ``allowed``."""
    body = json_body()
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(
            f"Unknown properties: {', '.join(unknown)}.", fields=dict.fromkeys(unknown, "Unknown.")
        )
    return body


def _definitions(connection: Any, actor: Any) -> AccessDefinitions:
    return AccessDefinitions(connection, actor, get_state().metadata_cache)


def list_documents(kind: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        return jsonify({"data": _definitions(connection, actor).list(KIND_PATHS[kind])})


def get_document(kind: str, name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        return jsonify(_definitions(connection, actor).get(KIND_PATHS[kind], name))


def create_document(kind: str) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        return jsonify(_definitions(connection, actor).save(KIND_PATHS[kind], None, body)), 201


def replace_document(kind: str, name: str) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        return jsonify(_definitions(connection, actor).save(KIND_PATHS[kind], name, body))


def delete_document(kind: str, name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        _definitions(connection, actor).delete(KIND_PATHS[kind], name)
    return "", 204


def _sharing(connection: Any, obj: ObjectSchema) -> dict[str, Any]:
    job = connection.execute(
        sa.select(share_recomputes)
        .where(share_recomputes.c.object_id == obj.id)
        .order_by(share_recomputes.c.id.desc())
        .limit(1)
    ).first()
    return {
        "object": obj.api_name,
        "sharing_model": obj.definition.get("sharing_model", "read_write"),
        "sharing_parent": obj.definition.get("sharing_parent"),
        "sharing_rules": obj.definition.get("sharing_rules", []),
        "recompute": _job(job) if job else None,
    }


def _job(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "reason": row.reason,
        "total": row.total,
        "done": row.done,
        "shares": row.shares,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


def list_sharing() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        schema = metadata_service(connection, actor).schema()
        objects = sorted(schema.objects.values(), key=lambda o: o.api_name.lower())
        return jsonify({"data": [_sharing(connection, obj) for obj in objects]})


def get_sharing(api_name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        obj = metadata_service(connection, actor).get_object(api_name)
        return jsonify(_sharing(connection, obj))


def replace_sharing(api_name: str) -> ResponseReturnValue:
    """Set an object's org-wide default, parent and rules: a metadata revision that
    queues the recomputation of its rule shares."""
    body = _body_of(SHARING_KEYS)
    with tenant_transaction() as (connection, actor):
        service = metadata_service(connection, actor)
        # A PUT replaces the settings whole: a key left out is cleared.
        changes = {key: body.get(key) for key in SHARING_KEYS}
        obj = replace_sharing_settings(service, api_name, changes)
        return jsonify(_sharing(connection, obj))


def list_groups_view() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        return jsonify({"data": list_groups(connection)})


def get_group(name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        return jsonify(group_json(connection, find_group(connection, name)))


def save_group_view(name: str | None = None) -> ResponseReturnValue:
    body = json_body()
    with tenant_transaction() as (connection, actor):
        schema = metadata_service(connection, actor).schema()
        return jsonify(save_group(connection, actor, schema, name, body)), 200 if name else 201


def delete_group_view(name: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        schema = metadata_service(connection, actor).schema()
        delete_group(connection, actor, schema, name)
    return "", 204


def _sync_users(connection: Any, actor: Any) -> None:
    """Keep the User object's records in step with the accounts just changed."""
    sync_users(connection, get_state().metadata_cache, actor.tenant_id, actor.tenant_slug)


def _user_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"No user {raw}.") from None


def list_users_view() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        return jsonify({"data": [user_json(row) for row in list_users(connection)]})


def create_user_view() -> ResponseReturnValue:
    body = _body_of(("email", "password", "display_name", "admin", *ASSIGNMENT_KEYS))
    wrong = {
        name: "Text."
        for name in ("email", "password", "display_name")
        if body.get(name) is not None and not isinstance(body[name], str)
    }
    if not isinstance(body.get("admin", False), bool):
        wrong["admin"] = "true or false."
    if wrong:
        raise BadRequest("Some values have the wrong type.", fields=wrong)
    with tenant_transaction() as (connection, actor):
        schema = metadata_service(connection, actor).schema()
        row = create_user(
            connection,
            actor,
            email=str(body.get("email", "")),
            password=body.get("password"),
            display_name=str(body.get("display_name", "")),
            roles=["admin"] if body.get("admin") is True else [],
        )
        changes = {key: body[key] for key in ASSIGNMENT_KEYS if key in body}
        if changes:
            row = assign(connection, actor, schema, row.id, changes)
        _sync_users(connection, actor)
        return jsonify(user_json(row)), 201


def update_user_view(user_id: str) -> ResponseReturnValue:
    body = _body_of(ASSIGNMENT_KEYS)
    with tenant_transaction() as (connection, actor):
        schema = metadata_service(connection, actor).schema()
        row = assign(connection, actor, schema, _user_id(user_id), body)
        _sync_users(connection, actor)
        return jsonify(user_json(row))


def get_user_view(user_id: str) -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        return jsonify(user_json(get_user(connection, _user_id(user_id))))


def list_recomputes() -> ResponseReturnValue:
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        rows = connection.execute(
            sa.select(share_recomputes).order_by(share_recomputes.c.id.desc()).limit(100)
        )
        return jsonify({"data": [_job(row) for row in rows]})


def explain_view() -> ResponseReturnValue:
    missing = [name for name in ("user", "object", "record") if not request.args.get(name)]
    if missing:
        raise BadRequest(f"Give {', '.join(missing)}.", fields=dict.fromkeys(missing, "Required."))
    with tenant_transaction() as (connection, actor):
        actor.require_right("manage_users")
        schema = metadata_service(connection, actor).schema()
        obj = schema.object(request.args["object"])
        try:
            record_id = uuid.UUID(request.args["record"])
        except ValueError:
            raise NotFound(f"No {obj.api_name} record {request.args['record']}.") from None
        user_id = _user_id(request.args["user"])
        return jsonify(explain(connection, actor, schema, user_id, obj, record_id))


def register(blueprint: Blueprint) -> None:
    for path in KIND_PATHS:
        base, one, kind = f"/meta/{path}", f"/meta/{path}/<name>", {"kind": path}
        rule = blueprint.add_url_rule
        rule(base, f"list_{path}", list_documents, methods=["GET"], defaults=kind)
        rule(base, f"create_{path}", create_document, methods=["POST"], defaults=kind)
        rule(one, f"get_{path}", get_document, methods=["GET"], defaults=kind)
        rule(one, f"replace_{path}", replace_document, methods=["PUT"], defaults=kind)
        rule(one, f"delete_{path}", delete_document, methods=["DELETE"], defaults=kind)
    sharing = "/meta/sharing-rules/<api_name>"
    blueprint.add_url_rule("/meta/sharing-rules", view_func=list_sharing, methods=["GET"])
    blueprint.add_url_rule(sharing, view_func=get_sharing, methods=["GET"])
    blueprint.add_url_rule(sharing, view_func=replace_sharing, methods=["PUT"])
    blueprint.add_url_rule("/groups", view_func=list_groups_view, methods=["GET"])
    blueprint.add_url_rule("/groups", "create_group", save_group_view, methods=["POST"])
    blueprint.add_url_rule("/groups/<name>", view_func=get_group, methods=["GET"])
    blueprint.add_url_rule("/groups/<name>", "replace_group", save_group_view, methods=["PUT"])
    blueprint.add_url_rule("/groups/<name>", view_func=delete_group_view, methods=["DELETE"])
    blueprint.add_url_rule("/users", view_func=list_users_view, methods=["GET"])
    blueprint.add_url_rule("/users", view_func=create_user_view, methods=["POST"])
    blueprint.add_url_rule("/users/<user_id>", view_func=get_user_view, methods=["GET"])
    blueprint.add_url_rule("/users/<user_id>", view_func=update_user_view, methods=["PATCH"])
    blueprint.add_url_rule("/access/recomputes", view_func=list_recomputes, methods=["GET"])
    blueprint.add_url_rule("/access/explain", view_func=explain_view, methods=["GET"])
