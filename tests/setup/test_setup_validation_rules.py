"""Setup → Validation rules through the Flask client: rules created, edited, turned off
and on, reordered and deleted through the forms, each change a metadata revision in the
audit trail, saved as the API's object replace saves it; a bad formula or form is a 422
that changes nothing; users without manage_metadata are refused; and a rule saved here
acts on a record saved through the API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from formula_worlds import FormulaWorld, build_formula_world
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}
RULES = "/setup/validation-rules/Deal/"
BIG = {"name": "Big", "condition": "Amount > 1000", "message": "Too big.", "active": "on"}


@pytest.fixture()
def world(client: Any, tenant: TenantFixture) -> FormulaWorld:
    built = build_formula_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    return built


def post(client: Any, path: str, **data: Any) -> Any:
    token = csrf_token(client.get(RULES, headers=HTML).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, headers=HTML)


def revisions(tenant: TenantFixture) -> list[str]:
    return [
        row["message"] for row in tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]
    ]


def deal_save(world: FormulaWorld, amount: int) -> Any:
    return world.tenant.api(
        "POST", "/api/v1/objects/Deal/records", json={"Name": "Try", "Amount": amount}
    )


def test_the_section_lists_objects_and_an_objects_rules(client: Any, world: FormulaWorld) -> None:
    overview = client.get("/setup/", headers=HTML).get_data(as_text=True)
    assert 'href="/setup/validation-rules/"' in overview and "Validation rules" in overview
    objects = client.get("/setup/validation-rules/", headers=HTML).get_data(as_text=True)
    assert 'href="/setup/validation-rules/Deal/"' in objects
    picked = client.get("/setup/validation-rules/?object=deal", headers=HTML)
    assert picked.status_code == 303 and picked.headers["Location"].endswith(RULES)
    empty = client.get(RULES, headers=HTML).get_data(as_text=True)
    assert "No rules on Deal" in empty
    assert client.get("/setup/validation-rules/Nope/", headers=HTML).status_code == 404


def test_a_rule_is_created_and_acts_on_a_record_saved_through_the_api(
    client: Any, world: FormulaWorld
) -> None:
    form = client.get(f"{RULES}new", headers=HTML).get_data(as_text=True)
    assert "data-formula-editor" in form and 'data-object="Deal"' in form
    saved = post(client, f"{RULES}new", **BIG, error_field="Amount")
    assert saved.status_code == 303 and saved.headers["Location"].endswith(RULES)
    assert world.rules() == [
        {
            "name": "Big",
            "condition": "Amount > 1000",
            "message": "Too big.",
            "active": True,
            "error_field": "Amount",
        }
    ]
    listed = client.get(RULES, headers=HTML).get_data(as_text=True)
    assert "Validation rule Big added." in listed and "Amount &gt; 1000" in listed
    assert revisions(world.tenant)[0] == "Add rule Big"
    events = world.tenant.api(
        "GET", "/api/v1/audit", query_string={"action": "metadata.changed"}
    ).get_json()["data"]
    assert any("Add rule Big" in str(event["details"]) for event in events)
    refused = deal_save(world, 5000)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["Amount"] == ["Too big."]
    assert deal_save(world, 10).status_code == 201


def test_a_rule_is_edited_renamed_deactivated_and_activated(
    client: Any, world: FormulaWorld
) -> None:
    post(client, f"{RULES}new", **BIG)
    form = client.get(f"{RULES}Big/edit", headers=HTML).get_data(as_text=True)
    assert 'value="Big"' in form and "Amount &gt; 1000</textarea>" in form
    edited = post(
        client,
        f"{RULES}Big/edit",
        name="Huge",
        condition="Amount > 2000",
        message="Huge deals need approval.",
        description="Finance asked for it.",
        active="on",
    )
    assert edited.status_code == 303
    assert world.rules() == [
        {
            "name": "Huge",
            "condition": "Amount > 2000",
            "message": "Huge deals need approval.",
            "description": "Finance asked for it.",
            "active": True,
        }
    ]
    assert deal_save(world, 1500).status_code == 201
    assert deal_save(world, 2500).get_json()["errors"]["_record"] == ["Huge deals need approval."]
    assert post(client, f"{RULES}Huge/active", active="false").status_code == 303
    assert world.rules()[0]["active"] is False
    assert "Inactive" in client.get(RULES, headers=HTML).get_data(as_text=True)
    assert deal_save(world, 2500).status_code == 201
    post(client, f"{RULES}Huge/active", active="true")
    assert world.rules()[0]["active"] is True
    assert revisions(world.tenant)[:3] == [
        "Activate rule Huge",
        "Deactivate rule Huge",
        "Change rule Big",
    ]
    assert client.get(f"{RULES}Big/edit", headers=HTML).status_code == 404


def test_rules_are_reordered_by_buttons_and_by_a_whole_order(
    client: Any, world: FormulaWorld
) -> None:
    for name in ("One", "Two", "Three"):
        post(client, f"{RULES}new", name=name, condition="Amount < 0", message=name)
    names = lambda: [rule["name"] for rule in world.rules()]  # noqa: E731
    assert post(client, f"{RULES}Three/move", direction="up").status_code == 303
    assert names() == ["One", "Three", "Two"]
    post(client, f"{RULES}One/move", direction="up")  # already first: stays
    assert names() == ["One", "Three", "Two"]
    post(client, f"{RULES}One/move", direction="down")
    assert names() == ["Three", "One", "Two"]
    token = csrf_token(client.get(RULES, headers=HTML).get_data(as_text=True))
    ordered = client.post(
        f"{RULES}order", data={"csrf_token": token, "order": ["two", "Three", "One"]}
    )
    assert ordered.status_code == 303
    assert names() == ["Two", "Three", "One"]
    # An order that leaves a rule out is refused and changes nothing.
    partial = client.post(f"{RULES}order", data={"csrf_token": token, "order": ["One", "Two"]})
    assert partial.status_code == 422
    assert names() == ["Two", "Three", "One"]
    listed = client.get(RULES, headers=HTML).get_data(as_text=True)
    assert re.findall(r'data-rule="(\w+)"', listed) == ["Two", "Three", "One"]


def test_a_rule_is_deleted_after_a_confirmation(client: Any, world: FormulaWorld) -> None:
    post(client, f"{RULES}new", **BIG)
    confirm = client.get(f"{RULES}Big/delete", headers=HTML)
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Delete rule Big?" in page
    assert "no longer be checked" in page and "No record is changed" in page
    assert world.rules() != []
    assert post(client, f"{RULES}Big/delete").status_code == 303
    assert world.rules() == []
    assert revisions(world.tenant)[0] == "Delete rule Big"
    assert deal_save(world, 5000).status_code == 201


def test_a_bad_formula_is_shown_on_the_form_and_changes_nothing(
    client: Any, world: FormulaWorld
) -> None:
    post(client, f"{RULES}new", **BIG)
    before = (world.rules(), revisions(world.tenant))
    refused = post(client, f"{RULES}new", name="Typo", condition="Amout > 5", message="m")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="rule-condition-error"' in page
    assert "unknown field &#39;Amout&#39;; did you mean &#39;Amount&#39;?" in page
    assert 'aria-invalid="true"' in page and "Amout &gt; 5</textarea>" in page
    # A condition that is not TRUE or FALSE, and a broken edit, are refused too.
    assert (
        post(client, f"{RULES}new", name="Num", condition="Amount", message="m").status_code == 422
    )
    edit = post(client, f"{RULES}Big/edit", name="Big", condition="Amount >", message="m")
    assert edit.status_code == 422 and "rule-condition-error" in edit.get_data(as_text=True)
    assert (world.rules(), revisions(world.tenant)) == before


def test_form_mistakes_are_shown_at_their_fields(client: Any, world: FormulaWorld) -> None:
    post(client, f"{RULES}new", **BIG)
    before = world.rules()
    blank = post(client, f"{RULES}new", name="1bad", condition=" ", message="")
    page = blank.get_data(as_text=True)
    assert blank.status_code == 422
    for field in ("name", "condition", "message"):
        assert f'id="rule-{field}-error"' in page
    taken = post(client, f"{RULES}new", name="big", condition="Amount > 1", message="m")
    assert taken.status_code == 422 and "Another rule has this name." in taken.get_data(
        as_text=True
    )
    unknown = post(client, f"{RULES}new", **{**BIG, "name": "Other", "error_field": "Nope"})
    assert unknown.status_code == 422 and "No field &#39;Nope&#39;." in unknown.get_data(
        as_text=True
    )
    assert world.rules() == before


def test_users_without_manage_metadata_are_refused(
    client: Any, tenant: TenantFixture, world: FormulaWorld
) -> None:
    world.set_rules([{"name": "Big", "condition": "Amount > 1000", "message": "Too big."}])
    permission_set(tenant, "auditor", all_objects={"read": True}, system=["view_audit"])
    member(tenant, "auditor", permission_sets=["auditor"])
    client.post("/logout")
    other = tenant.app.test_client()
    sign_in(other, tenant, f"auditor@{tenant.slug}.test", PASSWORD)
    assert "validation-rules" not in other.get("/setup/", headers=HTML).get_data(as_text=True)
    for path in ("/setup/validation-rules/", RULES, f"{RULES}new", f"{RULES}Big/edit"):
        assert other.get(path, headers=HTML).status_code == 403, path
    token = csrf_token(other.get("/setup/", headers=HTML).get_data(as_text=True))
    for path in (f"{RULES}new", f"{RULES}Big/active", f"{RULES}Big/delete", f"{RULES}Big/move"):
        refused = other.post(path, data={"csrf_token": token, **BIG, "active": "false"})
        assert refused.status_code == 403, path
    assert [rule["name"] for rule in world.rules()] == ["Big"]
    assert world.rules()[0]["active"] is True
