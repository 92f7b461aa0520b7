"""The access gate against a plain model of its rules, on random small worlds.

Each example builds a world through the REST API in a tenant of its own: a role tree,
users with a role (or none) and a permission profile, groups (of users, roles, roles and
their subordinates, other groups: loops included), records of one object with random
owners and amounts, an org-wide default, owner- and criteria-based sharing rules and
manual shares. Then, for every user, the list (every page of it), its count, a
``where=`` list and a PATCH of every record must be what the model below says.

The model is written from the rules in the access gate's docstring and knows nothing of
the access package: it works on the world as drawn, by user index.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from access_helpers import Member, create, member, recompute
from conftest import TenantFixture, new_tenant
from flask import Flask
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

OBJECT = "Thing"
ADMIN = -1  # the tenant's administrator, in the model's user indices
MAX_ROLES, MAX_USERS, MAX_GROUPS, MAX_RECORDS, MAX_SHARES = 6, 6, 3, 15, 5
# Permission profiles: the permission sets a user holds.
PROFILES = {
    "standard": ["standard_user"],
    "read_only": ["read_only"],
    "viewer": ["standard_user", "viewer"],
    "modifier": ["standard_user", "modifier"],
}
CRITERIA = {">=": lambda amount, k: amount >= k, "<": lambda amount, k: amount < k}

# A principal as drawn: (kind, name); a user's name is their index.
Principal = tuple[str, Any]


@dataclasses.dataclass(frozen=True)
class Rule:
    share_with: Principal  # a group or a role (with or without subordinates)
    access: str  # read | read_write
    owned_by: Principal | None = None  # an owner-based rule
    criteria: tuple[str, int] | None = None  # a criteria-based rule: Amount <op> k


@dataclasses.dataclass(frozen=True)
class World:
    roles: tuple[tuple[str, str | None], ...]  # (name, parent), parents first
    users: tuple[tuple[str | None, str], ...]  # (role, profile)
    groups: tuple[tuple[Principal, ...], ...]  # members of g0, g1, …
    owd: str
    rules: tuple[Rule, ...]
    rules_first: bool  # rules set before the records are written, or after
    groups_last: bool  # groups filled after the rules and records (a recompute's work)
    records: tuple[tuple[int, int | None], ...]  # (owner index, Amount)
    shares: tuple[tuple[int, Principal, str], ...]  # (record index, principal, access)


# -- the model -------------------------------------------------------------------------


class Model:
    """Who may read and edit which record, computed from the world alone."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.parent = dict(world.roles)
        self.people = [*range(len(world.users)), ADMIN]
        self._memberships: dict[int, frozenset[Principal]] = {}

    def role_of(self, user: int) -> str | None:
        return None if user == ADMIN else self.world.users[user][0]

    def ancestors(self, role: str) -> list[str]:
        """The role and every role above it."""
        chain: list[str] = []
        current: str | None = role
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        return chain

    def in_role(self, user: int, role: str, subordinates: bool) -> bool:
        mine = self.role_of(user)
        if mine is None:
            return False
        return role in self.ancestors(mine) if subordinates else mine == role

    def group_users(self, group: int, seen: frozenset[int] = frozenset()) -> set[int]:
        found: set[int] = set()
        for kind, name in self.world.groups[group]:
            if kind == "user":
                found.add(name)
            elif kind == "group":
                if name not in seen | {group}:
                    found |= self.group_users(name, seen | {group})
            else:
                subordinates = kind == "role_and_subordinates"
                found |= {u for u in self.people if self.in_role(u, name, subordinates)}
        return found

    def memberships(self, user: int) -> frozenset[Principal]:
        """The principals a user is: themselves, their role, every role they sit at or
        below (as "and subordinates"), their groups."""
        if user in self._memberships:
            return self._memberships[user]
        found: set[Principal] = {("user", user)}
        role = self.role_of(user)
        if role is not None:
            found.add(("role", role))
            found |= {("role_and_subordinates", above) for above in self.ancestors(role)}
        found |= {
            ("group", g) for g in range(len(self.world.groups)) if user in self.group_users(g)
        }
        self._memberships[user] = frozenset(found)
        return self._memberships[user]

    def below(self, user: int) -> set[int]:
        """Users whose role sits strictly below this user's role."""
        role = self.role_of(user)
        if role is None:
            return set()
        return {
            other
            for other in self.people
            if (theirs := self.role_of(other)) is not None
            and theirs != role
            and role in self.ancestors(theirs)
        }

    def reached(self, user: int) -> set[Principal]:
        """A manager reaches whatever those below them reach."""
        found = set(self.memberships(user))
        for other in self.below(user):
            found |= self.memberships(other)
        return found

    def shares(self, index: int) -> list[tuple[Principal, int]]:
        owner, amount = self.world.records[index]
        levels = {"read": 1, "read_write": 2}
        # One manual share per record and principal: sharing again sets its access.
        manual = {
            principal: access for record, principal, access in self.world.shares if record == index
        }
        found = [(principal, levels[access]) for principal, access in manual.items()]
        for rule in self.world.rules:
            if rule.owned_by is not None:
                applies = rule.owned_by in self.memberships(owner)
            else:
                assert rule.criteria is not None
                operator, k = rule.criteria
                applies = amount is not None and CRITERIA[operator](amount, k)
            if applies:
                found.append((rule.share_with, levels[rule.access]))
        return found

    def can(self, user: int, index: int, operation: str) -> bool:
        profile = self.world.users[user][1]
        if profile == "modifier":
            return True
        if operation == "read" and (profile == "viewer" or self.world.owd == "read"):
            return True
        if self.world.owd == "read_write":
            return True
        owner = self.world.records[index][0]
        if owner == user or owner in self.below(user):
            return True
        needed = {"read": 1, "edit": 2}[operation]
        reached = self.reached(user)
        return any(level >= needed and p in reached for p, level in self.shares(index))

    def readable(self, user: int) -> set[int]:
        return {i for i in range(len(self.world.records)) if self.can(user, i, "read")}

    def patch_status(self, user: int, index: int) -> tuple[int, str | None]:
        if self.world.users[user][1] == "read_only":
            return 403, "no_object_right"
        if not self.can(user, index, "read"):
            return 404, None
        if not self.can(user, index, "edit"):
            return 403, "no_record_access"
        return 200, None


# -- drawing worlds --------------------------------------------------------------------


def _principal(draw: Any, roles: list[str], groups: int, users: int = 0) -> Principal:
    """A group or role principal for a sharing rule, which may name group ``g<groups>``
    that does not exist (it shares with nobody); with ``users``, a principal for a manual
    share: a user or an existing group or role."""
    kinds = (["role", "role_and_subordinates"] if roles else []) + ["group"] * bool(
        groups or not users
    )
    kinds += ["user"] if users else []
    kind = draw(st.sampled_from(kinds))
    if kind == "user":
        return kind, draw(st.sampled_from([*range(users), ADMIN]))
    if kind == "group":
        return kind, draw(st.integers(0, groups - 1 if users else groups))
    return kind, draw(st.sampled_from(roles))


@st.composite
def worlds(draw: Any) -> World:
    roles: list[tuple[str, str | None]] = []
    for index in range(draw(st.integers(0, MAX_ROLES))):
        parent = draw(st.none() | st.integers(0, index - 1)) if index else None
        roles.append((f"r{index}", None if parent is None else f"r{parent}"))
    names = [name for name, _ in roles]
    users = tuple(
        (
            draw(st.none() | st.sampled_from(names)) if names else None,
            draw(st.sampled_from(["standard", "standard", "read_only", "viewer", "modifier"])),
        )
        for _ in range(draw(st.integers(1, MAX_USERS)))
    )
    group_count = draw(st.integers(0, MAX_GROUPS))
    groups = tuple(
        tuple(
            draw(
                st.lists(
                    st.sampled_from(
                        [("user", u) for u in [*range(len(users)), ADMIN]]
                        + [(kind, r) for kind in ("role", "role_and_subordinates") for r in names]
                        + [("group", g) for g in range(group_count)]
                    ),
                    max_size=4,
                    unique=True,
                )
            )
        )
        for _ in range(group_count)
    )
    rules = []
    for _ in range(draw(st.integers(0, 3))):
        share_with = _principal(draw, names, group_count)
        access = draw(st.sampled_from(["read", "read_write"]))
        if draw(st.booleans()):
            rules.append(Rule(share_with, access, owned_by=_principal(draw, names, group_count)))
        else:
            criteria = (draw(st.sampled_from(sorted(CRITERIA))), draw(st.integers(0, 10)))
            rules.append(Rule(share_with, access, criteria=criteria))
    records = tuple(
        (
            draw(st.sampled_from([*range(len(users)), ADMIN])),
            draw(st.none() | st.integers(0, 10)),
        )
        for _ in range(draw(st.integers(0, MAX_RECORDS)))
    )
    shares = tuple(
        (
            draw(st.integers(0, len(records) - 1)),
            _principal(draw, names, group_count, users=len(users)),
            draw(st.sampled_from(["read", "read_write"])),
        )
        for _ in range(draw(st.integers(0, MAX_SHARES)) if records else 0)
    )
    return World(
        tuple(roles),
        users,
        groups,
        draw(st.sampled_from(["private", "read", "read_write"])),
        tuple(rules),
        draw(st.booleans()),
        draw(st.booleans()),
        records,
        shares,
    )


# One hand-made world that always runs: a three-level tree, a group loop, nested groups,
# a role-and-subordinates member, both kinds of rule and shares of every principal kind.
RICH = World(
    roles=(("r0", None), ("r1", "r0"), ("r2", "r1"), ("r3", "r0")),
    users=((None, "standard"), ("r1", "standard"), ("r2", "standard"), ("r3", "standard")),
    groups=(
        (("group", 1), ("role_and_subordinates", "r2")),
        (("group", 0), ("user", 0)),
        (("role", "r3"),),
    ),
    owd="private",
    rules=(
        Rule(("group", 2), "read", owned_by=("role_and_subordinates", "r1")),
        Rule(("role", "r1"), "read_write", criteria=(">=", 7)),
    ),
    rules_first=False,
    groups_last=True,
    records=((2, 1), (3, 8), (ADMIN, None), (0, 3), (ADMIN, 9), (1, 0)),
    shares=(
        (2, ("group", 0), "read_write"),
        (0, ("user", 3), "read"),
        (5, ("role_and_subordinates", "r3"), "read"),
        (3, ("role", "r2"), "read_write"),
    ),
)

# Sharing a record again with the same principal sets that share's access: here down
# to read.
RESHARED = World(
    roles=(("r0", None),),
    users=((None, "standard"), ("r0", "standard")),
    groups=(),
    owd="private",
    rules=(),
    rules_first=False,
    groups_last=False,
    records=((0, None),),
    shares=((0, ("role", "r0"), "read_write"), (0, ("role", "r0"), "read")),
)


# -- building a world through the API --------------------------------------------------


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def _rule_principal(principal: Principal) -> dict[str, Any]:
    kind, name = principal
    if kind == "group":
        return {"group": f"g{name}"}
    return {"role": name, "subordinates": kind == "role_and_subordinates"}


def _user_id(tenant: TenantFixture, people: list[Member], index: int) -> str:
    return str(tenant.admin_id if index == ADMIN else people[index].id)


def _share_body(tenant: TenantFixture, principal: Principal, people: list[Member]) -> dict:
    kind, name = principal
    if kind == "user":
        return {"user": _user_id(tenant, people, name)}
    return _rule_principal(principal)


def _rules_body(world: World) -> dict[str, Any]:
    rules = []
    for index, rule in enumerate(world.rules):
        body: dict[str, Any] = {
            "name": f"rule{index}",
            "share_with": _rule_principal(rule.share_with),
            "access": rule.access,
        }
        if rule.owned_by is not None:
            body["owned_by"] = _rule_principal(rule.owned_by)
        else:
            assert rule.criteria is not None
            body["criteria"] = f"Amount {rule.criteria[0]} {rule.criteria[1]}"
        rules.append(body)
    return {"sharing_model": world.owd, "sharing_rules": rules}


def fill_groups(tenant: TenantFixture, world: World, people: list[Member]) -> None:
    for index, members in enumerate(world.groups):
        listed = []
        for kind, name in members:
            if kind == "user":
                name = _user_id(tenant, people, name)
            elif kind == "group":
                name = f"g{name}"
            listed.append({"kind": kind, "member": name})
        _ok(tenant.api("PUT", f"/api/v1/groups/g{index}", json={"members": listed}))


def build(tenant: TenantFixture, world: World) -> tuple[list[Member], list[str]]:
    """The world in ``tenant``: its users (by index) and its records' ids (by index)."""
    fields = [{"api_name": "Name", "type": "text"}, {"api_name": "Amount", "type": "number"}]
    _ok(
        tenant.api(
            "POST",
            "/api/v1/meta/objects",
            json={"api_name": OBJECT, "label": OBJECT, "fields": fields},
        ),
        201,
    )
    for name, rights in (("viewer", {"view_all": True}), ("modifier", {"modify_all": True})):
        body = {"api_name": name, "label": name, "objects": {OBJECT: rights}, "system": ["api"]}
        _ok(tenant.api("POST", "/api/v1/meta/permission-sets", json=body), 201)
    for name, parent in world.roles:
        body = {"api_name": name, "label": name, "parent": parent}
        _ok(tenant.api("POST", "/api/v1/meta/roles", json=body), 201)
    people = [
        member(tenant, f"u{index}", password=None, role=role, permission_sets=PROFILES[profile])
        for index, (role, profile) in enumerate(world.users)
    ]
    # Groups first empty, then filled: members may name any group, loops included.
    for index in range(len(world.groups)):
        _ok(tenant.api("POST", "/api/v1/groups", json={"api_name": f"g{index}"}), 201)
    if not world.groups_last:
        fill_groups(tenant, world, people)
    if world.rules_first:
        _ok(tenant.api("PUT", f"/api/v1/meta/sharing-rules/{OBJECT}", json=_rules_body(world)))
    ids = [
        create(
            tenant,
            OBJECT,
            Name=f"record {index}",
            Amount=amount,
            owner_id=_user_id(tenant, people, owner),
        )
        for index, (owner, amount) in enumerate(world.records)
    ]
    if not world.rules_first:
        _ok(tenant.api("PUT", f"/api/v1/meta/sharing-rules/{OBJECT}", json=_rules_body(world)))
    if world.groups_last:
        fill_groups(tenant, world, people)
    for index, principal, access in world.shares:
        body = {**_share_body(tenant, principal, people), "access": access}
        _ok(
            tenant.api("POST", f"/api/v1/objects/{OBJECT}/records/{ids[index]}/shares", json=body),
            201,
        )
    recompute(tenant)
    return people, ids


# -- the property ----------------------------------------------------------------------


def listed(who: Member, **params: str) -> set[str]:
    """Every id of every page of a counted list; each page's total is the whole count."""
    path = f"/api/v1/objects/{OBJECT}/records"
    found: list[str] = []
    totals: set[int] = set()
    query = {"count": "true", "limit": "4", **params}
    while True:
        page = _ok(who.api("GET", path, query_string=query))
        found += [row["id"] for row in page["data"]]
        totals.add(page["total"])
        if page["next_cursor"] is None:
            break
        query = {**query, "cursor": page["next_cursor"]}
    assert len(found) == len(set(found)), "a cursor repeated a row"
    assert totals == {len(found)}, (totals, len(found))
    return set(found)


def check_reads(model: Model, people: list[Member], ids: list[str]) -> None:
    amounts = [amount for _, amount in model.world.records]
    for index, who in enumerate(people):
        expected = model.readable(index)
        assert listed(who) == {ids[i] for i in expected}, f"user {index} list"
        wanted = {ids[i] for i in expected if amounts[i] is not None and amounts[i] >= 5}
        assert listed(who, where="Amount >= 5") == wanted, f"user {index} where="


def check_writes(model: Model, people: list[Member], ids: list[str]) -> None:
    for index, who in enumerate(people):
        for record, record_id in enumerate(ids):
            status, code = model.patch_status(index, record)
            path = f"/api/v1/objects/{OBJECT}/records/{record_id}"
            response = who.api("PATCH", path, json={"Name": f"by {index}"})
            assert response.status_code == status, (index, record, response.get_json())
            if code is not None:
                assert response.get_json()["code"] == code


# Each example builds a world of a few dozen requests: few examples, and no deadline.
# The test's only fixture is the session-scoped app, and each example makes a tenant of
# its own, so no function-scoped fixture can carry state from one example to the next
# (Hypothesis' function_scoped_fixture health check has nothing to suppress).
@settings(max_examples=25, deadline=None)
@given(worlds())
@example(RICH)
@example(RESHARED)
def test_the_api_agrees_with_the_model(app: Flask, world: World) -> None:
    note(repr(world))
    tenant = new_tenant(app, prefix="model")
    people, ids = build(tenant, world)
    model = Model(world)
    check_reads(model, people, ids)
    check_writes(model, people, ids)
    # The edits re-synced every edited record's rule shares in their own transaction:
    # what they wrote must be what the recompute wrote.
    check_reads(model, people, ids)
