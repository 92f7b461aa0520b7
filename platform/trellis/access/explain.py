"""Why can this user see this record? Every grant that applies, or that none does.

For an admin: the user's rights on the object, the org-wide default, ownership, the role
hierarchy, each share (sharing rule or manual, direct or reached through a group, a role
or a subordinate) and, for a controlled-by-parent record, the parent's grants. The
verdicts (``can_read``, ``can_edit``, ``can_delete``) come from the same access predicate
every read path uses, run as that user.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access, sharing_model
from trellis.access.manual_shares import NAMES
from trellis.access.tables import access_closure, record_shares
from trellis.actor import ADMIN_ROLE, Actor
from trellis.errors import NotFound
from trellis.identity.tables import users
from trellis.identity.users import actor_for
from trellis.metadata.compiled import ObjectSchema, TenantSchema


def explain(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    user_id: uuid.UUID,
    obj: ObjectSchema,
    record_id: uuid.UUID,
) -> dict[str, Any]:
    actor.require_right("manage_users")
    user = connection.execute(sa.select(users).where(users.c.id == user_id)).first()
    if user is None:
        raise NotFound(f"No user {user_id}.")
    record = connection.execute(
        sa.text(
            "SELECT id, owner_id, data FROM records WHERE id = :id AND object_id = :o "
            "AND deleted_at IS NULL"
        ),
        {"id": record_id, "o": obj.id},
    ).first()
    if record is None:
        raise NotFound(f"No {obj.api_name} record {record_id}.")
    access = Access.of(actor_for(user, actor.tenant_slug), schema)
    return {
        "user": {"id": str(user.id), "email": user.email, "role": user.role},
        "object": obj.api_name,
        "record": str(record_id),
        "sharing_model": sharing_model(obj),
        "object_rights": sorted(access.rights.on_object(obj.api_name))
        if not access.everything
        else ["all"],
        **{
            f"can_{operation}": access.permits(connection, obj, record_id, operation)
            for operation in ("read", "edit", "delete")
        },
        "grants": _grants(connection, access, schema, obj, record, ADMIN_ROLE in user.roles),
    }


def _grants(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    obj: ObjectSchema,
    record: sa.Row[Any],
    admin: bool,
) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = []
    user_id = access.actor.user_id
    if admin:
        grants.append({"kind": "administrator", "access": "all"})
    for right in ("modify_all", "view_all"):
        if not admin and access.rights.has(obj.api_name, right):
            grants.append(
                {"kind": right, "access": "read_write" if right == "modify_all" else "read"}
            )
    model = sharing_model(obj)
    if model in {"read", "read_write"}:
        grants.append({"kind": "org_wide_default", "access": model})
    closure = connection.execute(
        sa.select(access_closure).where(access_closure.c.user_id == user_id)
    ).first()
    owners = set(closure.owners) if closure else {user_id}
    if record.owner_id == user_id:
        grants.append({"kind": "owner", "access": "all"})
    elif record.owner_id in owners:
        grants.append({"kind": "role_hierarchy", "access": "all", "owner": str(record.owner_id)})
    principals = set(closure.principals) if closure else {f"user:{user_id}"}
    own = set(closure.memberships) if closure else {f"user:{user_id}"}
    for share in connection.execute(
        sa.select(record_shares).where(record_shares.c.record_id == record.id)
    ):
        if share.principal in principals:
            grants.append(
                {
                    "kind": "sharing_rule" if share.cause.startswith("rule:") else "manual_share",
                    "rule": share.cause.removeprefix("rule:")
                    if share.cause.startswith("rule:")
                    else None,
                    "principal": share.principal,
                    "through": "membership" if share.principal in own else "role_hierarchy",
                    "access": NAMES[share.access],
                }
            )
    if model == "controlled_by_parent":
        lookup = obj.field(str(obj.definition["sharing_parent"]))
        parent_id = record.data.get(lookup.api_name)
        grants.append(
            {"kind": "parent", "object": lookup.definition["target"], "record": parent_id}
        )
    return grants
