"""Worlds for the permission matrix: one per right, each a tenant holding a target Deal
record, a decoy Deal nobody but the administrator reaches through sharing, and users
who hold the right and users who lack it, each with what they may do to the target.

Objects: Account (open to all) rolls up its Deals (``DealCount``) and lists them as a
related list; Deal is the object whose access is under test (``Amount`` a number, an
``Account`` lookup, under ``controlled_by_parent`` a required ``Portfolio`` lookup);
Step (open to all) looks up a Deal and shows its name through a formula
(``DealName``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from access_helpers import Member, create, member, recompute, roles
from conftest import TenantFixture

EVERY_RIGHT = {"read": True, "create": True, "edit": True, "delete": True}
WORKER = frozenset(EVERY_RIGHT)  # the object rights a worker holds on Deal
ALL = frozenset({"read", "edit", "delete"})
NOTHING: frozenset[str] = frozenset()
TARGET, DECOY = "target deal", "decoy deal"


@dataclasses.dataclass(frozen=True)
class Expect:
    """What one user may do: ``access`` to the target record (read, edit, delete as far
    as sharing goes), whether they read every Deal (the decoy too), and their object
    rights on Deal."""

    access: frozenset[str]
    everything: bool = False
    rights: frozenset[str] = WORKER

    @property
    def lists(self) -> bool:
        return "read" in self.rights

    def reads(self, record: str) -> bool:
        if not self.lists:
            return False
        return "read" in self.access if record == TARGET else self.everything


@dataclasses.dataclass
class World:
    tenant: TenantFixture
    ids: dict[str, str]  # TARGET, DECOY, "account", "target step", "decoy step"
    users: dict[str, tuple[Member, Expect]]

    @property
    def target(self) -> str:
        return self.ids[TARGET]

    def visible(self, expect: Expect) -> set[str]:
        """The Deal ids a user reads."""
        return {self.ids[name] for name in (TARGET, DECOY) if expect.reads(name)}


def permission_set(tenant: TenantFixture, name: str, **document: Any) -> None:
    """A permission set; its holders use the API (their tests act through tokens)."""
    body = {"api_name": name, "label": name, "system": ["api"], **document}
    response = tenant.api("POST", "/api/v1/meta/permission-sets", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)


def person(tenant: TenantFixture, name: str, *sets: str, role: str | None = None) -> Member:
    assignment: dict[str, Any] = {"permission_sets": list(sets or ("worker",))}
    if role:
        assignment["role"] = role
    return member(tenant, name, password=None, **assignment)


def _define(tenant: TenantFixture, definition: dict[str, Any], method: str = "POST") -> None:
    path = "/api/v1/meta/objects" + (f"/{definition['api_name']}" if method == "PUT" else "")
    response = tenant.api(method, path, json=definition)
    assert response.status_code in (200, 201), response.get_data(as_text=True)


def objects(tenant: TenantFixture, sharing_model: str) -> None:
    """The three objects (four under controlled_by_parent) and the worker permission set."""
    name = {"api_name": "Name", "type": "text"}
    account = {"api_name": "Account", "label": "Account", "fields": [name]}
    _define(tenant, account)
    deal_fields: list[dict[str, Any]] = [
        name,
        {"api_name": "Amount", "type": "number", "scale": 0},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
    ]
    deal: dict[str, Any] = {"api_name": "Deal", "label": "Deal", "sharing_model": sharing_model}
    if sharing_model == "controlled_by_parent":
        _define(
            tenant,
            {
                "api_name": "Portfolio",
                "label": "Portfolio",
                "sharing_model": "private",
                "fields": [name],
            },
        )
        deal_fields.append(
            {
                "api_name": "Portfolio",
                "type": "lookup",
                "target": "Portfolio",
                "required": True,
                "on_delete": "cascade",
            }
        )
        deal["sharing_parent"] = "Portfolio"
    _define(tenant, {**deal, "fields": deal_fields})
    step_fields = [
        name,
        {"api_name": "Deal", "type": "lookup", "target": "Deal"},
        {
            "api_name": "DealName",
            "type": "formula",
            "return_type": "text",
            "expression": "Deal.Name",
        },
    ]
    _define(tenant, {"api_name": "Step", "label": "Step", "fields": step_fields})
    rollup = {
        "api_name": "DealCount",
        "type": "rollup",
        "summarized_object": "Deal",
        "relationship_field": "Account",
        "function": "COUNT",
    }
    _define(tenant, {**account, "fields": [name, rollup]}, method="PUT")
    permission_set(tenant, "worker", all_objects=EVERY_RIGHT)


def records(tenant: TenantFixture, owner: Member | None = None, **parents: str) -> dict[str, str]:
    """The target (``owner``'s, else the administrator's), the decoy (the administrator's),
    their account and a step on each; ``parents`` are the Portfolio of each Deal."""
    account = create(tenant, "Account", Name="the account")
    ids = {"account": account}
    for label, amount in ((TARGET, 500), (DECOY, 5)):
        values: dict[str, Any] = {"Name": label, "Amount": amount, "Account": account}
        if label == TARGET and owner is not None:
            values["owner_id"] = str(owner.id)
        if label in parents:
            values["Portfolio"] = parents[label]
        ids[label] = create(tenant, "Deal", **values)
        ids[f"{label} step"] = create(tenant, "Step", Name=f"{label} step", Deal=ids[label])
    return ids


# -- one world per right ---------------------------------------------------------------

WorldBuilder = Callable[[TenantFixture], World]


def _open(tenant: TenantFixture, **sets: dict[str, Any]) -> None:
    objects(tenant, "read_write")
    for name, document in sets.items():
        permission_set(tenant, name, **document)


def object_create(tenant: TenantFixture) -> World:
    _open(tenant, no_create={"all_objects": {"read": True, "edit": True, "delete": True}})
    users = {
        "creator": (person(tenant, "creator"), Expect(ALL, True)),
        "non_creator": (
            person(tenant, "non_creator", "no_create"),
            Expect(ALL, True, frozenset({"read", "edit", "delete"})),
        ),
    }
    return World(tenant, records(tenant), users)


def object_read(tenant: TenantFixture) -> World:
    others = {"Account": EVERY_RIGHT, "Step": EVERY_RIGHT}
    _open(tenant, no_deals={"objects": others})
    users = {
        "reader": (person(tenant, "reader"), Expect(ALL, True)),
        "non_reader": (person(tenant, "non_reader", "no_deals"), Expect(NOTHING, rights=NOTHING)),
    }
    return World(tenant, records(tenant), users)


def object_edit(tenant: TenantFixture) -> World:
    _open(tenant)
    users = {
        "editor": (person(tenant, "editor"), Expect(ALL, True)),
        "read_only": (
            person(tenant, "read_only", "read_only"),
            Expect(ALL, True, frozenset({"read"})),
        ),
    }
    return World(tenant, records(tenant), users)


def object_delete(tenant: TenantFixture) -> World:
    _open(tenant)
    users = {
        "deleter": (person(tenant, "deleter"), Expect(ALL, True)),
        "standard": (
            person(tenant, "standard", "standard_user"),
            Expect(ALL, True, frozenset({"read", "create", "edit"})),
        ),
    }
    return World(tenant, records(tenant), users)


def _bypass(right: str, access: frozenset[str]) -> WorldBuilder:
    def build(tenant: TenantFixture) -> World:
        objects(tenant, "private")
        permission_set(tenant, right, objects={"Deal": {right: True}})
        users = {
            right: (person(tenant, right, "worker", right), Expect(access, True)),
            "worker": (person(tenant, "worker"), Expect(NOTHING)),
        }
        return World(tenant, records(tenant), users)

    return build


def owd(model: str, owner: frozenset[str], peer: frozenset[str]) -> WorldBuilder:
    """The owner and a peer under an org-wide default; under read_write also a read-only
    user, whom the default opens records to but who still may not change them."""

    def build(tenant: TenantFixture) -> World:
        objects(tenant, model)
        opened = model != "private"
        owning = person(tenant, "owner")
        users = {
            "owner": (owning, Expect(owner, opened)),
            "peer": (person(tenant, "peer"), Expect(peer, opened)),
        }
        if model == "read_write":
            users["read_only"] = (
                person(tenant, "read_only", "read_only"),
                Expect(ALL, True, frozenset({"read"})),
            )
        return World(tenant, records(tenant, owning), users)

    return build


def controlled_by_parent(tenant: TenantFixture) -> World:
    """The target's Portfolio is owned by one user and shared for reading with another;
    a third owns a Portfolio of their own."""
    objects(tenant, "controlled_by_parent")
    owning = person(tenant, "parent_owner")
    other = person(tenant, "other_owner")
    reader = person(tenant, "parent_reader")
    portfolio = create(tenant, "Portfolio", Name="theirs", owner_id=str(owning.id))
    create(tenant, "Portfolio", Name="other", owner_id=str(other.id))
    admins = create(tenant, "Portfolio", Name="the admin's")
    shared = tenant.api(
        "POST",
        f"/api/v1/objects/Portfolio/records/{portfolio}/shares",
        json={"user": str(reader.id), "access": "read"},
    )
    assert shared.status_code == 201, shared.get_data(as_text=True)
    users = {
        "parent_owner": (owning, Expect(ALL)),
        "parent_reader": (reader, Expect(frozenset({"read"}))),
        "other_owner": (other, Expect(NOTHING)),
    }
    return World(tenant, records(tenant, **{TARGET: portfolio, DECOY: admins}), users)


def hierarchy(tenant: TenantFixture) -> World:
    objects(tenant, "private")
    roles(tenant, ("boss", None), ("lead", "boss"), ("rep", "lead"), ("trainee", "rep"))
    owning = person(tenant, "owner", role="rep")
    users = {
        "boss": (person(tenant, "boss", role="boss"), Expect(ALL)),
        "lead": (person(tenant, "lead", role="lead"), Expect(ALL)),
        "same_role": (person(tenant, "same_role", role="rep"), Expect(NOTHING)),
        "trainee": (person(tenant, "trainee", role="trainee"), Expect(NOTHING)),
    }
    return World(tenant, records(tenant, owning), users)


def _sharing(tenant: TenantFixture, *rules: dict[str, Any]) -> None:
    body = {"sharing_model": "private", "sharing_rules": list(rules)}
    response = tenant.api("PUT", "/api/v1/meta/sharing-rules/Deal", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    recompute(tenant)


def owner_rule(tenant: TenantFixture) -> World:
    objects(tenant, "private")
    roles(tenant, ("east", None), ("west", None))
    owning = person(tenant, "owner", role="east")
    users = {
        "west": (person(tenant, "west", role="west"), Expect(frozenset({"read", "edit"}))),
        "no_role": (person(tenant, "no_role"), Expect(NOTHING)),
    }
    ids = records(tenant, owning)
    _sharing(
        tenant,
        {
            "name": "east_to_west",
            "owned_by": {"role": "east"},
            "share_with": {"role": "west"},
            "access": "read_write",
        },
    )
    return World(tenant, ids, users)


def _group(tenant: TenantFixture, name: str, *members: tuple[str, str]) -> None:
    body = {"api_name": name, "members": [{"kind": k, "member": m} for k, m in members]}
    response = tenant.api("POST", "/api/v1/groups", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)


def criteria_rule(tenant: TenantFixture) -> World:
    """Deals of 100 or more are shared for reading with a group: the target (500), not
    the decoy (5)."""
    objects(tenant, "private")
    inside = person(tenant, "big_dealer")
    users = {
        "big_dealer": (inside, Expect(frozenset({"read"}))),
        "outsider": (person(tenant, "outsider"), Expect(NOTHING)),
    }
    _group(tenant, "big", ("user", str(inside.id)))
    _sharing(
        tenant,
        {
            "name": "big_deals",
            "criteria": "Amount >= 100",
            "share_with": {"group": "big"},
            "access": "read",
        },
    )
    return World(tenant, records(tenant), users)


def manual_share(tenant: TenantFixture) -> World:
    objects(tenant, "private")
    owning = person(tenant, "owner")
    friend = person(tenant, "friend")
    ids = records(tenant, owning)
    shared = owning.api(
        "POST",
        f"/api/v1/objects/Deal/records/{ids[TARGET]}/shares",
        json={"user": str(friend.id), "access": "read_write"},
    )
    assert shared.status_code == 201, shared.get_data(as_text=True)
    users = {
        "friend": (friend, Expect(frozenset({"read", "edit"}))),
        "outsider": (person(tenant, "outsider"), Expect(NOTHING)),
    }
    return World(tenant, ids, users)


def group(tenant: TenantFixture) -> World:
    """The target is shared (read) with a group holding a nested group and a role with
    its subordinates."""
    objects(tenant, "private")
    roles(tenant, ("lead", None), ("rep", "lead"))
    nested = person(tenant, "nested")
    below = person(tenant, "below_lead", role="rep")
    _group(tenant, "inner", ("user", str(nested.id)))
    _group(tenant, "team", ("group", "inner"), ("role_and_subordinates", "lead"))
    ids = records(tenant)
    shared = tenant.api(
        "POST",
        f"/api/v1/objects/Deal/records/{ids[TARGET]}/shares",
        json={"group": "team", "access": "read"},
    )
    assert shared.status_code == 201, shared.get_data(as_text=True)
    users = {
        "nested": (nested, Expect(frozenset({"read"}))),
        "below_lead": (below, Expect(frozenset({"read"}))),
        "outsider": (person(tenant, "outsider"), Expect(NOTHING)),
    }
    return World(tenant, ids, users)


def field_security(tenant: TenantFixture) -> World:
    """``hidden`` cannot read Deal.Amount, nor the formula Step.DealName nor the roll-up
    Account.DealCount; ``fixed`` reads Deal.Amount but may not edit it."""
    _open(
        tenant,
        hidden={
            "all_objects": EVERY_RIGHT,
            "fields": {
                "Deal.Amount": {"read": False},
                "Step.DealName": {"read": False},
                "Account.DealCount": {"read": False},
            },
        },
        fixed={"all_objects": EVERY_RIGHT, "fields": {"Deal.Amount": {"edit": False}}},
    )
    users = {
        "worker": (person(tenant, "worker"), Expect(ALL, True)),
        "hidden": (person(tenant, "hidden", "hidden"), Expect(ALL, True)),
        "fixed": (person(tenant, "fixed", "fixed"), Expect(ALL, True)),
    }
    return World(tenant, records(tenant), users)


WORLDS: dict[str, WorldBuilder] = {
    "object_create": object_create,
    "object_read": object_read,
    "object_edit": object_edit,
    "object_delete": object_delete,
    "view_all": _bypass("view_all", frozenset({"read"})),
    "modify_all": _bypass("modify_all", ALL),
    "field_read": field_security,
    "field_edit": field_security,
    "owd_private": owd("private", ALL, NOTHING),
    "owd_read": owd("read", ALL, frozenset({"read"})),
    "owd_read_write": owd("read_write", ALL, ALL),
    "owd_controlled_by_parent": controlled_by_parent,
    "hierarchy": hierarchy,
    "owner_rule": owner_rule,
    "criteria_rule": criteria_rule,
    "manual_share": manual_share,
    "group": group,
}
