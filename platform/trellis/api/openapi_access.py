"""The OpenAPI description of access administration (:mod:`trellis.api.access`) and of a
record's shares (:mod:`trellis.api.record_shares`)."""

from __future__ import annotations

import copy
from typing import Any

from trellis.api.openapi_schema import (
    BOOLEAN,
    INTEGER,
    MOMENT,
    OPTIONAL_MOMENT,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    READ,
    REMOVE,
    TEXT,
    UUID,
    WRITE,
    array,
    data_of,
    operation,
    parameter,
    ref,
    shape,
)
from trellis.metadata.access_documents import SCHEMAS
from trellis.metadata.documents import object_meta_schema

ACCESS = "Access"
SHARING_MODELS = ["private", "read", "read_write", "controlled_by_parent"]


def openapi_schemas() -> dict[str, Any]:
    """Permission sets, roles, sharing settings, groups, users, shares, explanations.

    Long by nature: a declarative table of schemas, one entry per resource."""
    definitions = object_meta_schema()["$defs"]
    principal = copy.deepcopy(definitions["principal"])
    principal["properties"] = {
        "group": TEXT,
        "role": TEXT,
        "subordinates": BOOLEAN,
    }
    rule = copy.deepcopy(definitions["sharing_rule"])
    rule["properties"] = {
        **rule["properties"],
        "name": TEXT,
        "owned_by": ref("Principal"),
        "share_with": ref("Principal"),
        "criteria": TEXT,
    }
    job = {
        "id": INTEGER,
        "status": {"enum": ["queued", "running", "done", "superseded"]},
        "reason": TEXT,
        "total": {"type": ["integer", "null"]},
        "done": INTEGER,
        "shares": INTEGER,
        "created_at": MOMENT,
        "finished_at": OPTIONAL_MOMENT,
    }
    member = shape(
        {"kind": {"enum": ["user", "role", "role_and_subordinates", "group"]}, "member": TEXT},
        ["kind", "member"],
    )
    user = {
        "id": UUID,
        "email": TEXT,
        "display_name": TEXT,
        "active": BOOLEAN,
        "admin": BOOLEAN,
        "role": OPTIONAL_TEXT,
        "permission_sets": array(TEXT),
        "manager_id": OPTIONAL_UUID,
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "last_login_at": {"type": ["string", "null"], "format": "date-time"},
    }
    assignment = {
        "role": OPTIONAL_TEXT,
        "permission_sets": array(TEXT),
        "manager_id": OPTIONAL_UUID,
    }
    share = {
        "principal": TEXT,
        "access": {"enum": ["read", "read_write"]},
        "cause": TEXT,
        "created_by": OPTIONAL_UUID,
        "created_at": {"type": ["string", "null"], "format": "date-time"},
    }
    return {
        "PermissionSet": SCHEMAS["permission_set"],
        "Role": SCHEMAS["role"],
        "Principal": principal,
        "SharingRule": rule,
        "ShareRecompute": shape(job, job),
        "SharingSettings": shape(
            {
                "object": TEXT,
                "sharing_model": {"enum": SHARING_MODELS},
                "sharing_parent": OPTIONAL_TEXT,
                "sharing_rules": array(ref("SharingRule")),
                "recompute": {"anyOf": [{"type": "null"}, ref("ShareRecompute")]},
            },
            ["object", "sharing_model", "sharing_parent", "sharing_rules", "recompute"],
        ),
        "SharingInput": shape(
            {
                "sharing_model": {"enum": SHARING_MODELS},
                "sharing_parent": OPTIONAL_TEXT,
                "sharing_rules": array(ref("SharingRule")),
            }
        ),
        "Group": shape(
            {
                "id": UUID,
                "api_name": TEXT,
                "label": TEXT,
                "description": TEXT,
                "members": array(member),
            },
            ["id", "api_name", "label", "description", "members"],
        ),
        "GroupInput": shape(
            {"api_name": TEXT, "label": TEXT, "description": TEXT, "members": array(member)}
        ),
        "User": shape(user, user),
        "UserInput": shape(
            {
                "email": TEXT,
                "password": TEXT,
                "display_name": TEXT,
                "admin": BOOLEAN,
                **assignment,
            },
            ["email"],
        ),
        "UserAssignment": shape(assignment),
        "Share": shape(share, share),
        "ShareInput": shape(
            {
                "user": UUID,
                "group": TEXT,
                "role": TEXT,
                "subordinates": BOOLEAN,
                "access": {"enum": ["read", "read_write"]},
            }
        ),
        "AccessExplanation": shape(
            {
                "user": {"type": "object"},
                "object": TEXT,
                "record": UUID,
                "sharing_model": {"enum": SHARING_MODELS},
                "object_rights": array(TEXT),
                "can_read": BOOLEAN,
                "can_edit": BOOLEAN,
                "can_delete": BOOLEAN,
                "grants": array({"type": "object"}),
            },
            [
                "user",
                "object",
                "record",
                "sharing_model",
                "object_rights",
                "can_read",
                "can_edit",
                "can_delete",
                "grants",
            ],
        ),
    }


def _documents(path: str, schema: str, title: str, plural: str) -> dict[str, dict[str, Any]]:
    name = parameter("name", "path", TEXT, f"The {title.lower()}'s api name.")
    return {
        f"/meta/{path}": {
            "get": operation(f"list{plural}", plural, ACCESS, 200, data_of(ref(schema))),
            "post": operation(
                f"create{title}",
                f"Create a {title.lower()}",
                ACCESS,
                201,
                ref(schema),
                errors=WRITE,
                body=ref(schema),
            ),
        },
        f"/meta/{path}/{{name}}": {
            "get": operation(
                f"get{title}",
                f"One {title.lower()}",
                ACCESS,
                200,
                ref(schema),
                errors=READ,
                parameters=[name],
            ),
            "put": operation(
                f"replace{title}",
                f"Replace a {title.lower()}",
                ACCESS,
                200,
                ref(schema),
                errors=WRITE,
                parameters=[name],
                body=ref(schema),
            ),
            "delete": operation(
                f"delete{title}",
                f"Delete a {title.lower()} no user holds",
                ACCESS,
                204,
                errors=REMOVE,
                parameters=[name],
            ),
        },
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    """Everything under ``/meta/permission-sets``, ``/meta/roles``, ``/meta/sharing-rules``,
    ``/groups``, ``/users`` and ``/access``.

    Long by nature: a declarative table of operations, one entry per endpoint."""
    api_name = parameter("api_name", "path", TEXT, "The object's api name.")
    group = parameter("name", "path", TEXT, "The group's api name.")
    user_id = parameter("user_id", "path", UUID, "The user's id.")
    return {
        **_documents("permission-sets", "PermissionSet", "PermissionSet", "PermissionSets"),
        **_documents("roles", "Role", "Role", "Roles"),
        "/meta/sharing-rules": {
            "get": operation(
                "listSharingSettings",
                "Every object's sharing settings",
                ACCESS,
                200,
                data_of(ref("SharingSettings")),
            )
        },
        "/meta/sharing-rules/{api_name}": {
            "get": operation(
                "getSharingSettings",
                "One object's sharing settings",
                ACCESS,
                200,
                ref("SharingSettings"),
                errors=READ,
                parameters=[api_name],
            ),
            "put": operation(
                "replaceSharingSettings",
                "Set an object's org-wide default and sharing rules (recomputed in the background)",
                ACCESS,
                200,
                ref("SharingSettings"),
                errors=WRITE,
                parameters=[api_name],
                body=ref("SharingInput"),
            ),
        },
        "/groups": {
            "get": operation("listGroups", "Groups", ACCESS, 200, data_of(ref("Group"))),
            "post": operation(
                "createGroup",
                "Create a group",
                ACCESS,
                201,
                ref("Group"),
                errors=WRITE,
                body=ref("GroupInput"),
            ),
        },
        "/groups/{name}": {
            "get": operation(
                "getGroup", "One group", ACCESS, 200, ref("Group"), errors=READ, parameters=[group]
            ),
            "put": operation(
                "replaceGroup",
                "Replace a group and its members",
                ACCESS,
                200,
                ref("Group"),
                errors=WRITE,
                parameters=[group],
                body=ref("GroupInput"),
            ),
            "delete": operation(
                "deleteGroup",
                "Delete a group no sharing rule names",
                ACCESS,
                204,
                errors=REMOVE,
                parameters=[group],
            ),
        },
        "/users": {
            "get": operation("listUsers", "Users", ACCESS, 200, data_of(ref("User"))),
            "post": operation(
                "createUser",
                "Create a user",
                ACCESS,
                201,
                ref("User"),
                errors=WRITE,
                body=ref("UserInput"),
            ),
        },
        "/users/{user_id}": {
            "get": operation(
                "getUser", "One user", ACCESS, 200, ref("User"), errors=READ, parameters=[user_id]
            ),
            "patch": operation(
                "assignUser",
                "Set a user's role, permission sets and manager",
                ACCESS,
                200,
                ref("User"),
                errors=WRITE,
                parameters=[user_id],
                body=ref("UserAssignment"),
            ),
        },
        "/access/recomputes": {
            "get": operation(
                "listShareRecomputes",
                "Share recomputations, newest first",
                ACCESS,
                200,
                data_of(ref("ShareRecompute")),
            )
        },
        "/access/explain": {
            "get": operation(
                "explainAccess",
                "Why a user can (or cannot) reach a record",
                ACCESS,
                200,
                ref("AccessExplanation"),
                errors=READ,
                parameters=[
                    {**parameter("user", "query", UUID, "The user's id."), "required": True},
                    {**parameter("object", "query", TEXT, "The object."), "required": True},
                    {**parameter("record", "query", UUID, "The record's id."), "required": True},
                ],
            )
        },
    }


def share_paths(one: str, title: str, record_id: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``…/records/{record_id}/shares``: a record's shares, and its manual ones."""
    principal = parameter("principal", "path", TEXT, "e.g. `user:<id>` or `group:<name>`.")
    return {
        f"{one}/shares": {
            "get": operation(
                f"list{title}Shares",
                "The record's shares",
                title,
                200,
                data_of(ref("Share")),
                errors=READ,
                parameters=[record_id],
            ),
            "post": operation(
                f"share{title}Record",
                "Share the record (its owner, those above, modify all)",
                title,
                201,
                ref("Share"),
                errors=WRITE,
                parameters=[record_id],
                body=ref("ShareInput"),
            ),
        },
        f"{one}/shares/{{principal}}": {
            "delete": operation(
                f"unshare{title}Record",
                "Remove a manual share",
                title,
                204,
                errors=REMOVE,
                parameters=[record_id, principal],
            )
        },
    }
