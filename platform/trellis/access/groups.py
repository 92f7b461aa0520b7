"""Groups of users, roles (with or without their subordinates) and other groups.

Groups are data, edited without a metadata revision; sharing rules and shares name them
by api name. Every change rebuilds the principal closure and queues share recomputation
for objects whose owner-based rules may now reach other owners.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.access.principals import rebuild_closure
from trellis.access.recompute import queue_membership_change
from trellis.access.tables import group_members, user_groups
from trellis.actor import Actor
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.identity.tables import users
from trellis.metadata.compiled import TenantSchema

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
MEMBER_KINDS = ("user", "role", "role_and_subordinates", "group")


def group_json(connection: Connection, row: sa.Row[Any]) -> dict[str, Any]:
    return _groups_json(connection, [row])[0]


def list_groups(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(sa.select(user_groups).order_by(user_groups.c.api_name)).all()
    return _groups_json(connection, rows)


def _groups_json(connection: Connection, rows: Sequence[sa.Row[Any]]) -> list[dict[str, Any]]:
    """The groups with their members, read in one query whatever their number."""
    members: dict[Any, list[dict[str, str]]] = {row.id: [] for row in rows}
    for group_id, kind, member in connection.execute(
        sa.select(group_members.c.group_id, group_members.c.member_kind, group_members.c.member)
        .where(group_members.c.group_id.in_(list(members)))
        .order_by(group_members.c.member_kind, group_members.c.member)
    ):
        members[group_id].append({"kind": kind, "member": member})
    return [
        {
            "id": str(row.id),
            "api_name": row.api_name,
            "label": row.label,
            "description": row.description,
            "members": members[row.id],
        }
        for row in rows
    ]


def find_group(connection: Connection, name: str) -> sa.Row[Any]:
    row = connection.execute(
        sa.select(user_groups).where(sa.func.lower(user_groups.c.api_name) == name.lower())
    ).first()
    if row is None:
        raise NotFound(f"No group {name!r}.")
    return row


def save_group(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    name: str | None,
    body: Any,
) -> dict[str, Any]:
    """Create (``name`` None) or replace a group and its members."""
    actor.require_right("manage_users")
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object.")
    api_name = str(body.get("api_name", name) or "")
    errors: dict[str, str] = {}
    if not NAME.fullmatch(api_name):
        errors["api_name"] = "Use a letter, then letters, digits or underscores."
    label = body.get("label", api_name)
    if not isinstance(label, str) or not label.strip() or len(label) > 120:
        errors["label"] = "Give a label of at most 120 characters."
    members = _members(connection, schema, body.get("members", []), errors)
    if errors:
        raise ValidationError("The group is not valid.", fields=errors)
    group_id = _store_group(connection, actor, name, api_name, label, body)
    if members:
        connection.execute(
            group_members.insert(),
            [
                {
                    "tenant_id": actor.tenant_id,
                    "group_id": group_id,
                    "member_kind": kind,
                    "member": member,
                }
                for kind, member in members
            ],
        )
    _changed(connection, actor, schema, "group.saved", api_name, {"members": len(members)})
    return group_json(connection, find_group(connection, api_name))


def _store_group(
    connection: Connection,
    actor: Actor,
    name: str | None,
    api_name: str,
    label: str,
    body: dict[str, Any],
) -> uuid.UUID:
    """Insert the group (``name`` None) or update it, its members cleared; its id."""
    if name is None:
        if connection.execute(
            sa.select(user_groups.c.id).where(
                sa.func.lower(user_groups.c.api_name) == api_name.lower()
            )
        ).first():
            raise Conflict(
                f"A group named {api_name!r} exists.", fields={"api_name": "Already taken."}
            )
        group_id = connection.execute(
            user_groups.insert()
            .values(
                tenant_id=actor.tenant_id,
                api_name=api_name,
                label=label,
                description=str(body.get("description", "")),
            )
            .returning(user_groups.c.id)
        ).scalar_one()
    else:
        row = find_group(connection, name)
        if row.api_name.lower() != str(api_name).lower():
            raise ValidationError(
                "A name cannot change.", fields={"api_name": "Names are permanent."}
            )
        group_id = row.id
        connection.execute(
            user_groups.update()
            .where(user_groups.c.id == group_id)
            .values(label=label, description=str(body.get("description", row.description)))
        )
        connection.execute(group_members.delete().where(group_members.c.group_id == group_id))
    return uuid.UUID(str(group_id))


def delete_group(connection: Connection, actor: Actor, schema: TenantSchema, name: str) -> None:
    actor.require_right("manage_users")
    row = find_group(connection, name)
    using = [
        f"{obj.api_name}.{rule['name']}"
        for obj in schema.objects.values()
        for rule in obj.definition.get("sharing_rules", [])
        if name.lower()
        in {str(rule.get(side, {}).get("group", "")).lower() for side in ("owned_by", "share_with")}
    ]
    if using:
        raise Conflict(
            f"Sharing rules name {name!r}: {', '.join(using)}; change them first.", code="in_use"
        )
    connection.execute(user_groups.delete().where(user_groups.c.id == row.id))
    _changed(connection, actor, schema, "group.deleted", row.api_name, {})


def _members(
    connection: Connection, schema: TenantSchema, raw: Any, errors: dict[str, str]
) -> list[tuple[str, str]]:
    """The members sent, checked: users by id, roles by name, groups by api name."""
    if not isinstance(raw, list):
        errors["members"] = "Send a list of {kind, member}."
        return []
    found: set[tuple[str, str]] = set()
    for index, entry in enumerate(raw):
        kind = entry.get("kind") if isinstance(entry, dict) else None
        member = entry.get("member") if isinstance(entry, dict) else None
        place = f"members.{index}"
        if kind not in MEMBER_KINDS or not isinstance(member, str):
            errors[place] = f"Give a kind ({', '.join(MEMBER_KINDS)}) and a member."
        elif kind == "user":
            try:
                user_id = uuid.UUID(member)
            except ValueError:
                errors[place] = "Not a user id."
                continue
            if (
                connection.execute(sa.select(users.c.id).where(users.c.id == user_id)).first()
                is None
            ):
                errors[place] = "No such user."
            found.add((kind, str(user_id)))
        elif kind == "group":
            try:
                found.add((kind, str(find_group(connection, member).id)))
            except NotFound:
                errors[place] = f"No group {member!r}."
        elif schema.access.role(member) is None:
            errors[place] = f"No role {member!r}."
        else:
            found.add((kind, schema.access.role(member)["api_name"]))  # type: ignore[index]
    return sorted(found)


def _changed(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    action: str,
    name: str,
    details: dict[str, Any],
) -> None:
    rebuild_closure(connection, actor.tenant_id, schema.access)
    queue_membership_change(connection, actor.tenant_id, schema, "group membership changed")
    record_audit(connection, actor, action, target_type="group", target_id=name, details=details)
