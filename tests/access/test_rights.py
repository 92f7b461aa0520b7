"""System rights from permission sets, API access, the OpenAPI document and history as
each user may see them, and automations that run as their owner."""

from __future__ import annotations

import json
from typing import Any

import pytest
from access_helpers import create, member, roles
from conftest import TenantFixture
from factories import add_automation, runs
from helpers import assert_envelope, wait_for

from trellis.identity.tokens import create_token

ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "fields": [
        {"api_name": "Name", "type": "text"},
        {"api_name": "Revenue", "type": "number", "scale": 0},
    ],
}


def permission_set(tenant: TenantFixture, name: str, **grants: Any) -> None:
    response = tenant.api(
        "POST", "/api/v1/meta/permission-sets", json={"api_name": name, "label": name, **grants}
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_system_rights_come_from_permission_sets(tenant: TenantFixture) -> None:
    permission_set(
        tenant,
        "builder",
        all_objects={"read": True},
        system=["api", "manage_metadata", "view_audit"],
    )
    builder = member(tenant, "builder", permission_sets=["builder"])
    standard = member(tenant, "standard")
    created = builder.api("POST", "/api/v1/meta/objects", json=ACCOUNT)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert builder.api("GET", "/api/v1/audit").status_code == 200
    assert_envelope(
        standard.api("POST", "/api/v1/meta/objects", json={**ACCOUNT, "api_name": "Other"}),
        403,
        "no_system_right",
    )
    assert_envelope(standard.api("GET", "/api/v1/audit"), 403, "no_system_right")
    # The run log quotes records of every object: only for those who manage automations.
    assert_envelope(standard.api("GET", "/api/v1/automation-runs"), 403, "no_system_right")
    assert_envelope(standard.api("GET", "/api/v1/automation-runs/1"), 403, "no_system_right")
    assert tenant.api("GET", "/api/v1/automation-runs").status_code == 200
    # The builder manages metadata, not users.
    assert_envelope(builder.api("GET", "/api/v1/users"), 403, "no_system_right")
    # A token narrowed to read and write scopes holds no management right.
    database = tenant.app.extensions["trellis"].database
    with database.tenant(tenant.id) as connection:
        narrow, _ = create_token(
            connection, tenant.actor, user_id=builder.id, name="narrow", scopes=["read", "write"]
        )
    assert_envelope(tenant.api("GET", "/api/v1/audit", token=narrow), 403, "no_system_right")


def test_a_user_without_the_api_right_cannot_use_a_token(tenant: TenantFixture) -> None:
    permission_set(tenant, "screens_only", all_objects={"read": True})
    user = member(tenant, "screens", permission_sets=["screens_only"])
    assert_envelope(user.api("GET", "/api/v1/me"), 403, "no_system_right")


def test_openapi_and_history_leave_out_what_the_user_cannot_read(tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=ACCOUNT).status_code == 201
    secret = {
        "api_name": "Secret",
        "label": "Secret",
        "fields": [{"api_name": "X", "type": "text"}],
    }
    assert tenant.api("POST", "/api/v1/meta/objects", json=secret).status_code == 201
    permission_set(
        tenant,
        "accounts_no_revenue",
        objects={"Account": {"read": True, "create": True, "edit": True}},
        fields={"Account.Revenue": {"read": False}},
        system=["api"],
    )
    user = member(tenant, "limited", permission_sets=["accounts_no_revenue"])
    document = user.api("GET", "/api/v1/openapi.json").get_json()
    assert "Revenue" not in document["components"]["schemas"]["Account"]["properties"]
    assert "Name" in document["components"]["schemas"]["Account"]["properties"]
    assert not any(path.startswith("/objects/Secret") for path in document["paths"])
    full = tenant.api("GET", "/api/v1/openapi.json").get_json()
    assert "Revenue" in full["components"]["schemas"]["Account"]["properties"]
    assert any(path.startswith("/objects/Secret") for path in full["paths"])
    account = create(tenant, "Account", Name="Acme", Revenue=5, owner_id=str(user.id))
    tenant.api(
        "PATCH", f"/api/v1/objects/Account/records/{account}", json={"Revenue": 9, "Name": "A"}
    )
    history = user.api("GET", f"/api/v1/objects/Account/records/{account}/history").get_json()
    assert [entry["changes"] for entry in history["data"]][0] == {"Name": ["Acme", "A"]}


def _kickoff(run_as: dict[str, Any]) -> dict[str, Any]:
    return {
        "api_name": "kickoff",
        "object": "Opportunity",
        "trigger": "created",
        "timing": "after_save",
        **run_as,
        "actions": [
            {"type": "create_record", "object": "Task", "values": {"Subject": '"Call " & Name'}}
        ],
    }


def test_an_automation_runs_with_its_owners_rights(crm: TenantFixture) -> None:
    permission_set(
        crm, "deals_only", objects={"Opportunity": {"read": True, "create": True}}, system=["api"]
    )
    owner = member(crm, "owner", permission_sets=["deals_only"])
    add_automation(crm, _kickoff({"run_as": "owner", "owner_id": str(owner.id)}))
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "Big"})
    [run] = wait_for(lambda: [r for r in runs(crm) if r["status"] == "failed"] or None)
    assert run["run_as"] == f"user:owner@{crm.slug}.test"
    assert "Task" in run["error"]
    # As the platform, the same automation creates the task.
    crm.api("PUT", "/api/v1/meta/automations/kickoff", json=_kickoff({"run_as": "system"}))
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "Bigger"})
    done = wait_for(lambda: [r for r in runs(crm) if r["status"] == "succeeded"] or None)
    assert done[0]["run_as"] == "system"


def test_only_an_administrator_lends_an_automation_someone_elses_rights(
    crm: TenantFixture,
) -> None:
    permission_set(
        crm, "automator", all_objects={"read": True}, system=["api", "manage_automations"]
    )
    automator = member(crm, "automator", permission_sets=["automator"])
    refused = automator.api(
        "POST",
        "/api/v1/meta/automations",
        json=_kickoff({"run_as": "owner", "owner_id": str(crm.admin_id)}),
    )
    assert_envelope(refused, 403)
    mine = automator.api("POST", "/api/v1/meta/automations", json=_kickoff({"run_as": "owner"}))
    assert mine.status_code == 201, mine.get_data(as_text=True)
    assert mine.get_json()["owner_id"] == str(automator.id)


def test_the_worker_recomputes_shares_after_a_rule_change(crm: TenantFixture) -> None:
    sharing = {"sharing_model": "private"}
    assert crm.api("PUT", "/api/v1/meta/sharing-rules/Opportunity", json=sharing).status_code == 200
    reader = member(crm, "reader")
    create(crm, "Opportunity", Name="Large", Amount=50000)
    assert reader.ids("Opportunity") == set()
    rule = {
        "name": "large",
        "criteria": "Amount > 1000",
        "share_with": {"role": "everyone", "subordinates": True},
        "access": "read",
    }
    crm.api("POST", "/api/v1/meta/roles", json={"api_name": "everyone", "label": "Everyone"})
    crm.api("PATCH", f"/api/v1/users/{reader.id}", json={"role": "everyone"})
    changed = crm.api(
        "PUT", "/api/v1/meta/sharing-rules/Opportunity", json={**sharing, "sharing_rules": [rule]}
    )
    assert changed.get_json()["recompute"]["status"] == "queued"
    # The task exists in the worker (an unknown task name would raise here); the API's
    # nudge may already have run the job, so what it returns is not the point.
    crm.app.extensions["celery"].send_task("trellis.recompute_shares").get(timeout=60)
    settings = wait_for(
        lambda: (
            found
            if (found := crm.api("GET", "/api/v1/meta/sharing-rules/Opportunity").get_json())[
                "recompute"
            ]["status"]
            == "done"
            else None
        )
    )
    assert settings["recompute"]["shares"] == 1
    assert len(reader.ids("Opportunity")) == 1


def test_a_users_webhook_sees_only_what_they_may_read(crm: TenantFixture, receiver: Any) -> None:
    url, handler = receiver
    crm.api("PUT", "/api/v1/meta/sharing-rules/Opportunity", json={"sharing_model": "private"})
    permission_set(
        crm,
        "integrator",
        all_objects={"read": True, "create": True, "edit": True},
        fields={"Opportunity.Amount": {"read": False}},
        system=["api", "manage_automations"],
    )
    integrator = member(crm, "integrator", permission_sets=["integrator"])
    response = integrator.api(
        "POST",
        "/api/v1/webhooks",
        json={"url": url, "secret": "a secret of length", "objects": ["Opportunity"]},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    create(crm, "Opportunity", Name="Theirs", Amount=10, owner_id=str(integrator.id))
    create(crm, "Opportunity", Name="Hidden", Amount=20)  # the admin's: out of reach
    create(crm, "Opportunity", Name="Also theirs", Amount=30, owner_id=str(integrator.id))
    # Events are dispatched in order: once the last one arrived, the hidden one was decided.
    wait_for(lambda: any(b"Also theirs" in delivery["body"] for delivery in handler.deliveries))
    bodies = [json.loads(delivery["body"]) for delivery in handler.deliveries]
    assert sorted(body["record"]["Name"] for body in bodies) == ["Also theirs", "Theirs"]
    assert all("Amount" not in body["record"] for body in bodies)


def test_bulk_deletes_are_audited_and_refused_deletes_change_nothing(
    tenant: TenantFixture,
) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=ACCOUNT).status_code == 201
    ids = [create(tenant, "Account", Name=f"A{n}") for n in range(3)]
    standard = member(tenant, "standard")
    refused = standard.api(
        "POST",
        "/api/v1/objects/Account/bulk",
        json={"operation": "delete", "records": [{"id": ids[0]}]},
    ).get_json()
    assert refused["results"][0]["status"] == 403
    assert len(tenant.api("GET", "/api/v1/objects/Account/records").get_json()["data"]) == 3
    done = tenant.api(
        "POST",
        "/api/v1/objects/Account/bulk",
        json={"operation": "delete", "records": [{"id": ids[0]}, {"id": ids[1]}]},
    ).get_json()
    assert done["ok"] is True
    [event] = tenant.api(
        "GET", "/api/v1/audit", query_string={"action": "records.bulk_deleted"}
    ).get_json()["data"]
    assert event["details"]["count"] == 2 and event["target_type"] == "Account"


def test_roles_and_permission_sets_travel_in_packages(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    # Exported by name, the rep comes before the role above it: the import reorders.
    # The object's sharing rule names roles and the permission set names the object, so
    # a fresh tenant needs roles, then objects, then permission sets.
    roles(tenant, ("zeta_boss", None), ("alpha_rep", "zeta_boss"))
    rule = {
        "name": "up",
        "owned_by": {"role": "alpha_rep"},
        "share_with": {"role": "zeta_boss"},
        "access": "read",
    }
    account = {**ACCOUNT, "sharing_model": "private", "sharing_rules": [rule]}
    created = tenant.api("POST", "/api/v1/meta/objects", json=account)
    assert created.status_code == 201, created.get_data(as_text=True)
    permission_set(
        tenant,
        "auditor",
        all_objects={"read": True},
        objects={"Account": {"read": True, "edit": True}},
        system=["api", "view_audit"],
    )
    package = tenant.api("GET", "/api/v1/meta/package").get_json()
    assert [role["api_name"] for role in package["roles"]] == ["alpha_rep", "zeta_boss"]
    assert [each["api_name"] for each in package["permission_sets"]] == ["auditor"]

    dry = other_tenant.api("POST", "/api/v1/meta/package?dry_run=true", json=package).get_json()
    assert {(e["kind"], e["api_name"], e["action"]) for e in dry["access"]} == {
        ("role", "zeta_boss", "create"),
        ("role", "alpha_rep", "create"),
        ("permission_set", "auditor", "create"),
    }
    assert other_tenant.api("GET", "/api/v1/meta/roles").get_json()["data"] == []
    done = other_tenant.api("POST", "/api/v1/meta/package", json=package)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert other_tenant.api("GET", "/api/v1/meta/package").get_json() == package
    again = other_tenant.api("POST", "/api/v1/meta/package", json=package).get_json()
    assert again["changed"] is False


@pytest.mark.parametrize(
    "key, documents",
    [
        ("permission_sets", [{"label": "No name"}]),
        ("permission_sets", {"api_name": "not_a_list"}),
        ("roles", [{"api_name": 7}]),
        ("roles", ["boss"]),
    ],
)
def test_a_misshapen_access_list_is_a_422_and_imports_nothing(
    tenant: TenantFixture, key: str, documents: Any
) -> None:
    package = {"trellis_package": 1, "objects": [ACCOUNT], key: documents}
    refused = tenant.api("POST", "/api/v1/meta/package", json=package)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert key in refused.get_json()["errors"]
    assert tenant.api("GET", "/api/v1/meta/objects/Account").status_code == 404
