"""Which role and permission sets a user holds, and who their manager is.

An assignment changes what the user reaches, so it rebuilds the principal closure and
queues share recomputation for owner-based rules, in the transaction of the change, and
is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.access.principals import rebuild_closure
from trellis.access.recompute import queue_membership_change
from trellis.actor import Actor
from trellis.errors import NotFound, ValidationError
from trellis.identity.tables import users
from trellis.metadata.compiled import TenantSchema

ASSIGNABLE = ("role", "permission_sets", "manager_id")


def user_json(row: sa.Row[Any]) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "email": row.email,
        "display_name": row.display_name,
        "active": row.active,
        "admin": "admin" in row.roles,
        "role": row.role,
        "permission_sets": list(row.permission_sets),
        "manager_id": str(row.manager_id) if row.manager_id else None,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "last_login_at": row.last_login_at.isoformat() if row.last_login_at else None,
    }


def assign(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    user_id: uuid.UUID,
    changes: dict[str, Any],
) -> sa.Row[Any]:
    """Set any of ``role``, ``permission_sets`` and ``manager_id`` of a user."""
    actor.require_right("manage_users")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if "role" in changes:
        role = changes["role"]
        if role is not None and (not isinstance(role, str) or schema.access.role(role) is None):
            errors["role"] = f"No role {role!r}."
        else:
            values["role"] = schema.access.role(role)["api_name"] if role else None  # type: ignore[index]
    if "permission_sets" in changes:
        names = changes["permission_sets"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            errors["permission_sets"] = "Send a list of permission set names."
        else:
            unknown = [n for n in names if n.lower() not in schema.access.permission_sets]
            if unknown:
                errors["permission_sets"] = f"No permission set {', '.join(map(repr, unknown))}."
            values["permission_sets"] = sorted(
                {
                    schema.access.permission_sets[n.lower()]["api_name"]
                    for n in names
                    if n.lower() in schema.access.permission_sets
                }
            )
    if "manager_id" in changes:
        values["manager_id"] = _manager(connection, user_id, changes["manager_id"], errors)
    if errors:
        raise ValidationError("The assignment is not valid.", fields=errors)
    statement = (
        users.update().where(users.c.id == user_id).values(**values).returning(*users.c)
        if values
        else sa.select(users).where(users.c.id == user_id)
    )
    row = connection.execute(statement).first()
    if row is None:
        raise NotFound(f"No user {user_id}.")
    if not values:
        return row
    if "role" in values:
        rebuild_closure(connection, actor.tenant_id, schema.access)
        queue_membership_change(connection, actor.tenant_id, schema, "user role changed")
    record_audit(
        connection,
        actor,
        "user.access_changed",
        target_type="user",
        target_id=str(user_id),
        details={
            name: value if name != "manager_id" else str(value) for name, value in values.items()
        },
    )
    return row


def _manager(
    connection: Connection, user_id: uuid.UUID, raw: Any, errors: dict[str, str]
) -> uuid.UUID | None:
    if raw is None:
        return None
    try:
        manager = uuid.UUID(str(raw))
    except ValueError:
        errors["manager_id"] = "Not a user id."
        return None
    if manager == user_id:
        errors["manager_id"] = "A user cannot manage themselves."
    elif connection.execute(sa.select(users.c.id).where(users.c.id == manager)).first() is None:
        errors["manager_id"] = "No such user."
    return manager
