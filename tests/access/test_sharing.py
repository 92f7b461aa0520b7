"""Record-level access through the REST API: org-wide defaults, the role hierarchy,
owner and criteria sharing rules, groups, manual shares, controlled-by-parent, roll-ups,
formula references, field-level security and object rights. Each grant is shown to open
exactly what it should, and its absence to close it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from access_helpers import Member, create, member, recompute, roles, sharing
from conftest import TenantFixture
from helpers import assert_envelope

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "sharing_model": "private",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "number", "scale": 0},
        {
            "api_name": "OpenTasks",
            "type": "rollup",
            "summarized_object": "Task",
            "relationship_field": "Account",
            "function": "COUNT",
        },
    ],
}
TASK = {
    "api_name": "Task",
    "label": "Task",
    "sharing_model": "private",
    "fields": [
        {"api_name": "Subject", "type": "text"},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
        {
            "api_name": "AccountName",
            "type": "formula",
            "return_type": "text",
            "expression": "Account.Name",
        },
    ],
}
NOTE = {
    "api_name": "Note",
    "label": "Note",
    "sharing_model": "controlled_by_parent",
    "sharing_parent": "Account",
    "fields": [
        {"api_name": "Body", "type": "text"},
        {
            "api_name": "Account",
            "type": "lookup",
            "target": "Account",
            "required": True,
            "on_delete": "cascade",
        },
    ],
}


@pytest.fixture()
def org(tenant: TenantFixture) -> dict[str, Any]:
    """Roles ceo > east_manager > east_rep and ceo > west_rep; a user in each; accounts
    owned by each rep."""
    for definition in (
        {**ACCOUNT, "fields": ACCOUNT["fields"][:2]},
        TASK,
        NOTE,
        ACCOUNT,
    ):
        method, path = (
            ("PUT", "/api/v1/meta/objects/Account")
            if definition is ACCOUNT
            else ("POST", "/api/v1/meta/objects")
        )
        response = tenant.api(method, path, json=definition)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    roles(
        tenant,
        ("ceo", None),
        ("east_manager", "ceo"),
        ("east_rep", "east_manager"),
        ("west_rep", "ceo"),
    )
    people = {
        "ceo": member(tenant, "ceo", role="ceo"),
        "manager": member(tenant, "manager", role="east_manager"),
        "east": member(tenant, "east", role="east_rep"),
        "west": member(tenant, "west", role="west_rep"),
        "outsider": member(tenant, "outsider"),
    }
    accounts = {
        name: create(
            tenant, "Account", Name=f"{name} account", Amount=amount, owner_id=str(people[name].id)
        )
        for name, amount in (("east", 500), ("west", 5000), ("manager", 10))
    }
    return {"people": people, "accounts": accounts}


def _status(who: Member, method: str, path: str, **kwargs: Any) -> int:
    return who.api(method, path, **kwargs).status_code


def test_private_default_shows_owners_and_the_hierarchy_above_them(
    tenant: TenantFixture, org: dict
) -> None:
    people, accounts = org["people"], org["accounts"]
    assert people["east"].ids("Account") == {accounts["east"]}
    assert people["west"].ids("Account") == {accounts["west"]}
    assert people["manager"].ids("Account") == {accounts["east"], accounts["manager"]}
    assert people["ceo"].ids("Account") == set(accounts.values())
    assert people["outsider"].ids("Account") == set()
    # Counts, cursors and where= see the same set.
    page = (
        people["manager"]
        .api("GET", "/api/v1/objects/Account/records", query_string={"count": "true", "limit": "1"})
        .get_json()
    )
    assert page["total"] == 2 and len(page["data"]) == 1 and page["next_cursor"]
    second = (
        people["manager"]
        .api(
            "GET",
            "/api/v1/objects/Account/records",
            query_string={"count": "true", "limit": "1", "cursor": page["next_cursor"]},
        )
        .get_json()
    )
    assert {page["data"][0]["id"], second["data"][0]["id"]} == {
        accounts["east"],
        accounts["manager"],
    }
    assert second["next_cursor"] is None
    assert people["manager"].ids("Account", where="Amount > 100") == {accounts["east"]}
    # A record out of reach is not found: reading, changing and deleting alike.
    west = f"/api/v1/objects/Account/records/{accounts['west']}"
    assert _status(people["east"], "GET", west) == 404
    assert _status(people["east"], "PATCH", west, json={"Name": "taken"}) == 404
    # Standard user holds no delete right at all: refused before the record is looked up.
    assert_envelope(people["east"].api("DELETE", west), 403, "no_object_right")
    assert tenant.api("GET", west).get_json()["Name"] == "west account"
    # The manager edits a report's record.
    east = f"/api/v1/objects/Account/records/{accounts['east']}"
    assert _status(people["manager"], "PATCH", east, json={"Name": "renamed"}) == 200


def test_owner_rule_shares_a_role_subtree_for_reading(tenant: TenantFixture, org: dict) -> None:
    people, accounts = org["people"], org["accounts"]
    sharing(
        tenant,
        "Account",
        sharing_model="private",
        sharing_rules=[
            {
                "name": "east_to_west",
                "owned_by": {"role": "east_manager", "subordinates": True},
                "share_with": {"role": "west_rep"},
                "access": "read",
            }
        ],
    )
    assert people["west"].ids("Account") == set(accounts.values())
    east = f"/api/v1/objects/Account/records/{accounts['east']}"
    assert _status(people["west"], "GET", east) == 200
    response = people["west"].api("PATCH", east, json={"Name": "taken"})
    assert_envelope(response, 403, "no_record_access")
    assert people["outsider"].ids("Account") == set()
    # Removing the rule takes the shares away once recomputed.
    sharing(tenant, "Account", sharing_model="private", sharing_rules=[])
    assert people["west"].ids("Account") == {accounts["west"]}


def test_a_recompute_job_reports_the_shares_it_wrote(tenant: TenantFixture, org: dict) -> None:
    rule = {
        "name": "east_to_west",
        "owned_by": {"role": "east_manager", "subordinates": True},
        "share_with": {"role": "west_rep"},
        "access": "read",
    }
    response = tenant.api(
        "PUT",
        "/api/v1/meta/sharing-rules/Account",
        json={"sharing_model": "private", "sharing_rules": [rule]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    queued = tenant.api("GET", "/api/v1/access/recomputes").get_json()["data"][0]
    assert (queued["status"], queued["done"], queued["shares"]) == ("queued", 0, 0)
    assert recompute(tenant) >= 1
    job = tenant.api("GET", "/api/v1/access/recomputes").get_json()["data"][0]
    # Three accounts; the east rep's and the manager's are owned inside the subtree.
    assert (job["id"], job["status"]) == (queued["id"], "done")
    assert (job["total"], job["done"], job["shares"]) == (3, 3, 2)


def test_criteria_rule_and_groups_grant_read_write_but_never_delete(
    tenant: TenantFixture, org: dict
) -> None:
    people, accounts = org["people"], org["accounts"]
    response = tenant.api(
        "POST",
        "/api/v1/groups",
        json={
            "api_name": "big_deals",
            "label": "Big deals",
            "members": [{"kind": "user", "member": str(people["outsider"].id)}],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    sharing(
        tenant,
        "Account",
        sharing_model="private",
        sharing_rules=[
            {
                "name": "big",
                "criteria": "Amount >= 1000",
                "share_with": {"group": "big_deals"},
                "access": "read_write",
            }
        ],
    )
    assert people["outsider"].ids("Account") == {accounts["west"]}
    # Even with the delete right, a share does not let the outsider delete.
    tenant.api(
        "POST",
        "/api/v1/meta/permission-sets",
        json={
            "api_name": "deleter",
            "label": "Deleter",
            "all_objects": {"read": True, "edit": True, "delete": True},
            "system": ["api"],
        },
    )
    tenant.api(
        "PATCH", f"/api/v1/users/{people['outsider'].id}", json={"permission_sets": ["deleter"]}
    )
    people["outsider"] = Member(tenant, people["outsider"].id, people["outsider"].token)
    west = f"/api/v1/objects/Account/records/{accounts['west']}"
    assert _status(people["outsider"], "PATCH", west, json={"Name": "edited"}) == 200
    assert_envelope(people["outsider"].api("DELETE", west), 403, "no_record_access")
    # A write that takes the record out of the rule takes the share away in the same
    # transaction.
    assert _status(people["west"], "PATCH", west, json={"Amount": 5}) == 200
    assert people["outsider"].ids("Account") == set()
    # A group that names a role reaches its members.
    tenant.api(
        "PUT",
        "/api/v1/groups/big_deals",
        json={"label": "Big deals", "members": [{"kind": "role", "member": "east_rep"}]},
    )
    people["west"].api("PATCH", west, json={"Amount": 7000})
    assert accounts["west"] in people["east"].ids("Account")
    assert accounts["west"] in people["manager"].ids("Account")  # and the hierarchy above
    assert people["outsider"].ids("Account") == set()


def test_manual_share_by_the_owner_only(tenant: TenantFixture, org: dict) -> None:
    people, accounts = org["people"], org["accounts"]
    shares = f"/api/v1/objects/Account/records/{accounts['east']}/shares"
    refused = people["west"].api("POST", shares, json={"user": str(people["west"].id)})
    assert refused.status_code == 404
    response = people["east"].api(
        "POST", shares, json={"user": str(people["outsider"].id), "access": "read"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert people["outsider"].ids("Account") == {accounts["east"]}
    listed = people["outsider"].api("GET", shares).get_json()["data"]
    assert [share["cause"] for share in listed] == ["manual"]
    # The reader cannot pass it on.
    assert_envelope(
        people["outsider"].api("POST", shares, json={"user": str(people["west"].id)}),
        403,
        "no_record_access",
    )
    principal = f"user:{people['outsider'].id}"
    assert _status(people["east"], "DELETE", f"{shares}/{principal}") == 204
    assert people["outsider"].ids("Account") == set()
    audit = tenant.api("GET", "/api/v1/audit", query_string={"action": "record.shared"}).get_json()
    assert len(audit["data"]) == 1


def test_parent_controls_detail_and_rollups_and_formulas_see_only_readable_records(
    tenant: TenantFixture, org: dict
) -> None:
    people, accounts = org["people"], org["accounts"]
    note = create(tenant, "Note", Body="secret", Account=accounts["west"])
    assert people["west"].ids("Note") == {note}
    assert people["east"].ids("Note") == set()
    assert _status(people["east"], "GET", f"/api/v1/objects/Note/records/{note}") == 404
    # Tasks: the east rep owns one on the west account, the west rep one on it too.
    create(
        tenant, "Task", Subject="mine", Account=accounts["west"], owner_id=str(people["east"].id)
    )
    create(
        tenant, "Task", Subject="theirs", Account=accounts["west"], owner_id=str(people["west"].id)
    )
    west = (
        people["west"].api("GET", f"/api/v1/objects/Account/records/{accounts['west']}").get_json()
    )
    assert west["OpenTasks"] == 1  # the east rep's task is out of the west rep's reach
    assert (
        tenant.api("GET", f"/api/v1/objects/Account/records/{accounts['west']}").get_json()[
            "OpenTasks"
        ]
        == 2
    )
    task = people["east"].api("GET", "/api/v1/objects/Task/records").get_json()["data"][0]
    assert task["AccountName"] is None  # the account is out of the east rep's reach
    assert people["east"].ids("Task", where='Account.Name = "west account"') == set()


def test_field_level_security_hides_and_refuses(
    tenant: TenantFixture, org: dict, database: Any
) -> None:
    people, accounts = org["people"], org["accounts"]
    response = tenant.api(
        "POST",
        "/api/v1/meta/permission-sets",
        json={
            "api_name": "no_amount",
            "label": "No amount",
            "all_objects": {"read": True, "create": True, "edit": True},
            "system": ["api"],
            "fields": {
                "Account.Amount": {"read": False},
                "Account.Name": {"read": True, "edit": False},
            },
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    tenant.api(
        "PATCH", f"/api/v1/users/{people['east'].id}", json={"permission_sets": ["no_amount"]}
    )
    path = f"/api/v1/objects/Account/records/{accounts['east']}"
    record = people["east"].api("GET", path).get_json()
    assert "Amount" not in record and record["Name"] == "east account"
    listed = people["east"].api("GET", "/api/v1/objects/Account/records").get_json()["data"]
    assert all("Amount" not in row for row in listed)
    for params in ({"Amount__gt": "1"}, {"sort": "Amount"}, {"where": "Amount > 1"}):
        bad = people["east"].api("GET", "/api/v1/objects/Account/records", query_string=params)
        assert_envelope(bad, 400, "unknown_field")
    refused = people["east"].api("PATCH", path, json={"Name": "changed"})
    body = assert_envelope(refused, 403, "field_not_editable")
    assert "Name" in body["errors"]
    with database.tenant(tenant.id) as connection:
        stored = connection.execute(
            sa.text("SELECT data->>'Name', version FROM records WHERE id = :id"),
            {"id": accounts["east"]},
        ).one()
    assert stored == ("east account", 1)


def test_a_create_answers_as_its_creator_may_read(tenant: TenantFixture, org: dict) -> None:
    """Whoever created a record of the object before them: the create statement is
    cached per access shape, as reads are."""
    response = tenant.api(
        "POST",
        "/api/v1/meta/permission-sets",
        json={
            "api_name": "no_amount",
            "label": "No amount",
            "all_objects": {"read": True, "create": True, "edit": True},
            "system": ["api"],
            "fields": {"Account.Amount": {"read": False}},
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    writer = member(tenant, "writer", permission_sets=["no_amount"])
    accounts = "/api/v1/objects/Account/records"
    first = tenant.api("POST", accounts, json={"Name": "admin's", "Amount": 5}).get_json()
    assert first["Amount"] == 5 and first["OpenTasks"] == 0
    created = writer.api("POST", accounts, json={"Name": "writer's"})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert "Amount" not in created.get_json() and created.get_json()["Name"] == "writer's"
    again = tenant.api("POST", accounts, json={"Name": "admin's again"}).get_json()
    assert "Amount" in again


def test_object_rights_view_all_and_read_only(tenant: TenantFixture, org: dict) -> None:
    accounts = org["accounts"]
    reader = member(tenant, "reader", permission_sets=["read_only"])
    assert_envelope(
        reader.api("POST", "/api/v1/objects/Account/records", json={"Name": "x"}),
        403,
        "no_object_right",
    )
    tenant.api(
        "POST",
        "/api/v1/meta/permission-sets",
        json={
            "api_name": "auditor",
            "label": "Auditor",
            "objects": {"Account": {"view_all": True}},
            "system": ["api"],
        },
    )
    auditor = member(tenant, "auditor", permission_sets=["auditor"])
    assert auditor.ids("Account") == set(accounts.values())
    assert_envelope(
        auditor.api(
            "PATCH", f"/api/v1/objects/Account/records/{accounts['east']}", json={"Name": "x"}
        ),
        403,
        "no_object_right",
    )
    assert_envelope(auditor.api("GET", "/api/v1/objects/Task/records"), 403, "no_object_right")


def test_explain_names_every_grant(tenant: TenantFixture, org: dict) -> None:
    people, accounts = org["people"], org["accounts"]
    people["east"].api(
        "POST",
        f"/api/v1/objects/Account/records/{accounts['east']}/shares",
        json={"user": str(people["west"].id)},
    )

    def why(who: str, account: str) -> dict[str, Any]:
        response = tenant.api(
            "GET",
            "/api/v1/access/explain",
            query_string={
                "user": str(people[who].id),
                "object": "Account",
                "record": accounts[account],
            },
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    assert {g["kind"] for g in why("manager", "east")["grants"]} == {"role_hierarchy"}
    west = why("west", "east")
    assert west["can_read"] and not west["can_edit"]
    assert [g["kind"] for g in west["grants"]] == ["manual_share"]
    none = why("outsider", "east")
    assert none["grants"] == [] and not none["can_read"]
    query = {"user": str(people["east"].id), "object": "Account", "record": accounts["east"]}
    denied = people["east"].api("GET", "/api/v1/access/explain", query_string=query)
    assert denied.status_code == 403


def test_a_count_adds_owned_and_shared_records_once(tenant: TenantFixture, org: dict) -> None:
    """The shares a record carries on its row (kept by triggers on record_shares) count a
    record once, however many shares reach the reader; a user whose closure was never
    built reaches what they own and what is shared with them; a deleted share closes."""
    people, accounts = org["people"], org["accounts"]

    def counted(who: Member) -> tuple[int, set[str]]:
        response = who.api("GET", "/api/v1/objects/Account/records", query_string={"count": "1"})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        return body["total"], {row["id"] for row in body["data"]}

    own = create(tenant, "Account", Name="outsider account", owner_id=str(people["outsider"].id))
    for account, user in ((accounts["east"], "outsider"), (own, "outsider"), (own, "manager")):
        shares = f"/api/v1/objects/Account/records/{account}/shares"
        response = tenant.api("POST", shares, json={"user": str(people[user].id)})
        assert response.status_code == 201, response.get_data(as_text=True)
    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        connection.execute(
            sa.text("DELETE FROM access_closure WHERE user_id = :user"),
            {"user": people["outsider"].id},
        )
    assert counted(people["outsider"]) == (2, {accounts["east"], own})
    # The manager reaches east's and their own through the hierarchy, and own by its share.
    assert counted(people["manager"]) == (3, {accounts["east"], accounts["manager"], own})
    assert counted(people["west"]) == (1, {accounts["west"]})
    principal = f"user:{people['outsider'].id}"
    shares = f"/api/v1/objects/Account/records/{accounts['east']}/shares/{principal}"
    assert tenant.api("DELETE", shares).status_code == 204
    assert counted(people["outsider"]) == (1, {own})


def _user_field(tenant: TenantFixture, **definition: Any) -> None:
    response = tenant.api("POST", "/api/v1/meta/objects/User/fields", json=definition)
    assert response.status_code == 201, response.get_data(as_text=True)


def _set_user(tenant: TenantFixture, who: Member, **values: Any) -> None:
    response = tenant.api("PATCH", f"/api/v1/objects/User/records/{who.id}", json=values)
    assert response.status_code == 200, response.get_data(as_text=True)


def _desk(tenant: TenantFixture, *members: Member) -> None:
    response = tenant.api(
        "POST",
        "/api/v1/groups",
        json={
            "api_name": "desk",
            "label": "Desk",
            "members": [{"kind": "user", "member": str(each.id)} for each in members],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def _queued(tenant: TenantFixture) -> list[str]:
    jobs = tenant.api("GET", "/api/v1/access/recomputes").get_json()["data"]
    return [job["reason"] for job in jobs if job["status"] == "queued"]


def _shared_by(tenant: TenantFixture, criteria: str) -> None:
    sharing(
        tenant,
        "Account",
        sharing_model="private",
        sharing_rules=[
            {
                "name": "owners",
                "criteria": criteria,
                "share_with": {"group": "desk"},
                "access": "read",
            }
        ],
    )


def test_criteria_rule_reads_the_owners_user_record(tenant: TenantFixture, org: dict) -> None:
    people, accounts = org["people"], org["accounts"]
    outsider = people["outsider"]
    _user_field(tenant, api_name="Region", type="picklist", values=["EMEA", "Americas"])
    _user_field(tenant, api_name="Department", type="text")
    _set_user(tenant, people["east"], Region="EMEA")
    _set_user(tenant, people["west"], Region="Americas")
    _desk(tenant, outsider)
    _shared_by(tenant, 'ISPICKVAL(Owner.Region, "EMEA")')
    assert outsider.ids("Account") == {accounts["east"]}
    # The owner's User record changes: a recompute is queued in the same write, and the
    # records keep their shares until it has run.
    _set_user(tenant, people["west"], Region="EMEA")
    assert _queued(tenant) == ["users' records changed"]
    assert outsider.ids("Account") == {accounts["east"]}
    assert recompute(tenant) == 1
    assert outsider.ids("Account") == {accounts["east"], accounts["west"]}
    _set_user(tenant, people["east"], Region="Americas")
    recompute(tenant)
    assert outsider.ids("Account") == {accounts["west"]}
    assert people["east"].ids("Account") == {accounts["east"]}  # still the owner's own
    # A field the rule does not read changes nothing.
    _set_user(tenant, people["west"], Department="Sales")
    assert _queued(tenant) == []
    # A record given to an owner in EMEA is shared in the transfer's own transaction.
    manager_account = f"/api/v1/objects/Account/records/{accounts['manager']}"
    moved = tenant.api("PATCH", manager_account, json={"owner_id": str(people["west"].id)})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert outsider.ids("Account") == {accounts["west"], accounts["manager"]}
    assert outsider.ids("Account", where='TEXT(Owner.Region) = "EMEA"') == {
        accounts["west"],
        accounts["manager"],
    }
    # The User field cannot go while the rule reads it.
    removed = tenant.api("DELETE", "/api/v1/meta/objects/User/fields/Region")
    errors = assert_envelope(removed, 422)["errors"]
    assert "objects.Account.sharing_rules.0.criteria" in errors, errors


def test_criteria_rule_follows_the_owners_manager_from_the_account(
    tenant: TenantFixture, org: dict
) -> None:
    """A manager set on a user's account reaches their User record, and the rule reads
    the manager's record in turn: both changes recompute."""
    people, accounts = org["people"], org["accounts"]
    outsider = people["outsider"]
    _user_field(tenant, api_name="Region", type="text")
    _set_user(tenant, people["ceo"], Region="EMEA")
    _desk(tenant, outsider)
    _shared_by(tenant, 'Owner.Manager.Region = "EMEA"')
    assert outsider.ids("Account") == set()
    assigned = tenant.api(
        "PATCH", f"/api/v1/users/{people['west'].id}", json={"manager_id": str(people["ceo"].id)}
    )
    assert assigned.status_code == 200, assigned.get_data(as_text=True)
    assert "users' records changed" in _queued(tenant)
    recompute(tenant)
    assert outsider.ids("Account") == {accounts["west"]}
    _set_user(tenant, people["ceo"], Region="Americas")
    assert _queued(tenant) == ["users' records changed"]
    recompute(tenant)
    assert outsider.ids("Account") == set()


def test_criteria_rules_cannot_read_the_acting_user(tenant: TenantFixture, org: dict) -> None:
    _user_field(tenant, api_name="Region", type="text")
    _desk(tenant, org["people"]["outsider"])
    formula = {
        "api_name": "OwnedByMe",
        "type": "formula",
        "return_type": "checkbox",
        "expression": "owner_id = $User.Id",
    }
    added = tenant.api("POST", "/api/v1/meta/objects/Account/fields", json=formula)
    assert added.status_code == 201, added.get_data(as_text=True)
    for criteria in ('$User.Region = "EMEA"', "OwnedByMe", "$Profile.Name = 'admin'"):
        response = tenant.api(
            "PUT",
            "/api/v1/meta/sharing-rules/Account",
            json={
                "sharing_model": "private",
                "sharing_rules": [
                    {
                        "name": "mine",
                        "criteria": criteria,
                        "share_with": {"group": "desk"},
                        "access": "read",
                    }
                ],
            },
        )
        errors = assert_envelope(response, 422)["errors"]
        assert "no acting user" in errors["sharing_rules.0.criteria"][0], errors
    unknown = tenant.api(
        "PUT",
        "/api/v1/meta/sharing-rules/Account",
        json={
            "sharing_rules": [
                {
                    "name": "x",
                    "criteria": 'Owner.Nope = "x"',
                    "share_with": {"group": "desk"},
                    "access": "read",
                }
            ]
        },
    )
    assert "sharing_rules.0.criteria" in assert_envelope(unknown, 422)["errors"]
    saved = tenant.api("GET", "/api/v1/meta/sharing-rules/Account").get_json()
    assert saved["sharing_rules"] == [] and saved["sharing_model"] == "private"
    assert org["people"]["outsider"].ids("Account") == set()


def test_user_fields_read_through_formula_fields_recompute(
    tenant: TenantFixture, org: dict
) -> None:
    people, accounts = org["people"], org["accounts"]
    _user_field(tenant, api_name="Region", type="text")
    _user_field(tenant, api_name="Department", type="text")
    formula = {
        "api_name": "OwnerRegion",
        "type": "formula",
        "return_type": "text",
        "expression": "Owner.Region",
    }
    added = tenant.api("POST", "/api/v1/meta/objects/Account/fields", json=formula)
    assert added.status_code == 201, added.get_data(as_text=True)
    _desk(tenant, people["outsider"])
    _shared_by(tenant, 'OwnerRegion = "EMEA"')
    _set_user(tenant, people["west"], Department="Sales")
    assert _queued(tenant) == []
    _set_user(tenant, people["west"], Region="EMEA")
    assert _queued(tenant) == ["users' records changed"]
    recompute(tenant)
    assert people["outsider"].ids("Account") == {accounts["west"]}
    row = people["outsider"].api("GET", f"/api/v1/objects/Account/records/{accounts['west']}")
    assert row.get_json()["OwnerRegion"] == "EMEA"
