"""Principals and the principal closure.

A share names a principal: a user (``user:<id>``), a group (``group:<name>``), the
members of a role (``role:<name>``), or the members of a role and of every role below it
(``role_and_subordinates:<name>``). The closure stores, per user:

- ``memberships``: the principals the user is, through their role and their groups
  (direct, by role, by role and subordinates, or through a nested group);
- ``principals``: their own memberships and those of every user below them in the role
  hierarchy, since a manager reaches whatever their reports reach;
- ``owners``: themselves and every user below them, whose records they reach as owners.

The access gate reads one closure row per statement; the closure is rebuilt, in the
transaction of the change, whenever users' roles, the role tree or groups change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.tables import access_closure, group_members, user_groups
from trellis.identity.tables import users
from trellis.metadata.access_documents import AccessMetadata


def user_principal(user_id: uuid.UUID | str) -> str:
    return f"user:{user_id}"


def group_principal(name: str) -> str:
    return f"group:{name.lower()}"


def role_principal(name: str, *, subordinates: bool = False) -> str:
    return f"{'role_and_subordinates' if subordinates else 'role'}:{name.lower()}"


def principal_of(target: dict[str, object]) -> str:
    """The principal a sharing rule's ``owned_by`` or ``share_with`` names."""
    if "group" in target:
        return group_principal(str(target["group"]))
    return role_principal(str(target["role"]), subordinates=bool(target.get("subordinates")))


class Closure:
    """The closure of one tenant's users, computed from their roles and groups."""

    def __init__(
        self,
        access: AccessMetadata,
        user_roles: dict[uuid.UUID, str | None],
        groups: dict[uuid.UUID, str],
        members: Iterable[tuple[uuid.UUID, str, str]],
    ) -> None:
        self.access = access
        self.user_roles = {user: self._known(role) for user, role in user_roles.items()}
        self.groups = groups
        self.members: dict[uuid.UUID, list[tuple[str, str]]] = {}
        for group_id, kind, member in members:
            self.members.setdefault(group_id, []).append((kind, member))
        self._in_group: dict[uuid.UUID, frozenset[uuid.UUID]] = {}

    def _known(self, role: str | None) -> str | None:
        found = self.access.role(role) if role else None
        return found["api_name"].lower() if found else None

    def memberships(self, user_id: uuid.UUID) -> set[str]:
        found = {user_principal(user_id)}
        role = self.user_roles.get(user_id)
        if role:
            found.add(role_principal(role))
            found |= {
                role_principal(name, subordinates=True) for name in self.access.ancestors(role)
            }
        found |= {
            group_principal(name)
            for group_id, name in self.groups.items()
            if user_id in self.group_users(group_id)
        }
        return found

    def group_users(
        self, group_id: uuid.UUID, seen: frozenset[uuid.UUID] = frozenset()
    ) -> frozenset[uuid.UUID]:
        """Every user a group holds, through nested groups too (a loop adds nothing)."""
        if group_id in self._in_group:
            return self._in_group[group_id]
        found: set[uuid.UUID] = set()
        for kind, member in self.members.get(group_id, []):
            if kind == "user":
                found.add(uuid.UUID(member))
            elif kind == "group" and uuid.UUID(member) not in seen | {group_id}:
                found |= self.group_users(uuid.UUID(member), seen | {group_id})
            else:
                found |= {
                    user
                    for user, role in self.user_roles.items()
                    if role
                    and (
                        role == member.lower()
                        if kind == "role"
                        else member.lower() in (a.lower() for a in self.access.ancestors(role))
                    )
                }
        if not seen:  # a result inside a loop may be partial: keep only top-level ones
            self._in_group[group_id] = frozenset(found)
        return frozenset(found)

    def subordinates(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """The users whose role sits strictly below this user's role."""
        role = self.user_roles.get(user_id)
        if not role:
            return set()
        return {
            other
            for other, other_role in self.user_roles.items()
            if other_role
            and other_role != role
            and role in (a.lower() for a in self.access.ancestors(other_role))
        }

    def rows(self, tenant_id: uuid.UUID) -> list[dict[str, object]]:
        memberships = {user: self.memberships(user) for user in self.user_roles}
        rows = []
        for user in self.user_roles:
            below = self.subordinates(user)
            reached = set(memberships[user])
            for other in below:
                reached |= memberships[other]
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "user_id": user,
                    "memberships": sorted(memberships[user]),
                    "principals": sorted(reached),
                    "owners": sorted({user, *below}),
                }
            )
        return rows


def load_closure(connection: Connection, tenant_id: uuid.UUID, access: AccessMetadata) -> Closure:
    user_roles = {
        row.id: row.role
        for row in connection.execute(
            sa.select(users.c.id, users.c.role).where(users.c.tenant_id == tenant_id)
        )
    }
    groups = {
        row.id: row.api_name.lower()
        for row in connection.execute(
            sa.select(user_groups.c.id, user_groups.c.api_name).where(
                user_groups.c.tenant_id == tenant_id
            )
        )
    }
    members = connection.execute(
        sa.select(
            group_members.c.group_id, group_members.c.member_kind, group_members.c.member
        ).where(group_members.c.tenant_id == tenant_id)
    )
    return Closure(access, user_roles, groups, [tuple(row) for row in members])


def rebuild_closure(connection: Connection, tenant_id: uuid.UUID, access: AccessMetadata) -> int:
    """Recompute every user's closure row in the caller's transaction; return the count.

    Serialised per tenant, so two changes committing together cannot leave the closure
    of the one that computed first."""
    connection.execute(
        sa.select(
            sa.func.pg_advisory_xact_lock(
                sa.func.hashtextextended(f"trellis-closure:{tenant_id}", 0)
            )
        )
    )
    rows = load_closure(connection, tenant_id, access).rows(tenant_id)
    connection.execute(access_closure.delete().where(access_closure.c.tenant_id == tenant_id))
    if rows:
        connection.execute(access_closure.insert(), rows)
    return len(rows)
