"""Manual shares: one record shared with a user, a group or a role by its owner, someone
above the owner in the role hierarchy, or an actor with modify all (admins included).

The caller has found the record through the records service with ``delete`` permission
(owner-level access) before adding or removing a share; reading the list needs read
access only.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.access.principals import group_principal, role_principal, user_principal
from trellis.access.tables import record_shares, user_groups
from trellis.actor import Actor
from trellis.errors import NotFound, ValidationError
from trellis.identity.tables import users
from trellis.metadata.compiled import ObjectSchema, TenantSchema

MANUAL = "manual"
LEVELS = {"read": 1, "read_write": 2}
NAMES = {1: "read", 2: "read_write"}


def list_shares(connection: Connection, record_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = connection.execute(
        sa.select(record_shares)
        .where(record_shares.c.record_id == record_id)
        .order_by(record_shares.c.cause, record_shares.c.principal)
    )
    return [
        {
            "principal": row.principal,
            "access": NAMES[row.access],
            "cause": row.cause,
            "created_by": str(row.created_by) if row.created_by else None,
            "created_at": row.created_at.isoformat() if row.created_at else None,
        }
        for row in rows
    ]


def principal_from(connection: Connection, schema: TenantSchema, body: dict[str, Any]) -> str:
    """The principal a share request names: ``user`` (id), ``group`` or ``role``."""
    if "user" in body:
        try:
            user_id = uuid.UUID(str(body["user"]))
        except ValueError:
            raise ValidationError("Not a user id.", fields={"user": "Not a user id."}) from None
        if connection.execute(sa.select(users.c.id).where(users.c.id == user_id)).first() is None:
            raise ValidationError("No such user.", fields={"user": "No such user."})
        return user_principal(user_id)
    if "group" in body:
        name = str(body["group"])
        if (
            connection.execute(
                sa.select(user_groups.c.id).where(
                    sa.func.lower(user_groups.c.api_name) == name.lower()
                )
            ).first()
            is None
        ):
            raise ValidationError("No such group.", fields={"group": f"No group {name!r}."})
        return group_principal(name)
    if "role" in body:
        if schema.access.role(str(body["role"])) is None:
            raise ValidationError("No such role.", fields={"role": f"No role {body['role']!r}."})
        return role_principal(str(body["role"]), subordinates=bool(body.get("subordinates")))
    raise ValidationError(
        "Name whom to share with.", fields={"user": "Give a user, a group or a role."}
    )


def add_share(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    obj: ObjectSchema,
    record_id: uuid.UUID,
    body: Any,
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object.")
    access = body.get("access", "read")
    level = LEVELS.get(access) if isinstance(access, str) else None
    if level is None:
        raise ValidationError("Unknown access.", fields={"access": "read or read_write."})
    principal = principal_from(connection, schema, body)
    connection.execute(
        pg_insert(record_shares)
        .values(
            tenant_id=actor.tenant_id,
            record_id=record_id,
            principal=principal,
            cause=MANUAL,
            object_id=obj.id,
            access=level,
            created_by=actor.user_id,
        )
        .on_conflict_do_update(
            index_elements=["tenant_id", "record_id", "principal", "cause"],
            set_={"access": level, "created_by": actor.user_id},
        )
    )
    record_audit(
        connection,
        actor,
        "record.shared",
        target_type=obj.api_name,
        target_id=str(record_id),
        details={"principal": principal, "access": NAMES[level]},
    )
    return {"principal": principal, "access": NAMES[level], "cause": MANUAL}


def remove_share(
    connection: Connection, actor: Actor, obj: ObjectSchema, record_id: uuid.UUID, principal: str
) -> None:
    removed = connection.execute(
        record_shares.delete().where(
            record_shares.c.record_id == record_id,
            record_shares.c.principal == principal,
            record_shares.c.cause == MANUAL,
        )
    ).rowcount
    if not removed:
        raise NotFound(f"The record is not shared manually with {principal}.")
    record_audit(
        connection,
        actor,
        "record.unshared",
        target_type=obj.api_name,
        target_id=str(record_id),
        details={"principal": principal},
    )
