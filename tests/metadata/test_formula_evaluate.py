"""Trying a formula on a record (POST /api/v1/meta/formulas/evaluate) and the formula
editor's data (the function catalogue, the field picker's fields, the records to try
on): values, errors with their position, and the caller's own access: a record they may
not read is a 404, a field hidden from them a 403, a related record they may not read is
blank, and the endpoint needs a right whose Setup screens take a formula (manage_metadata,
manage_automations or manage_users)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from access_helpers import PASSWORD, Member, create, member
from access_worlds import permission_set
from conftest import TenantFixture
from formula_worlds import ACCOUNT, FormulaWorld, build_formula_world
from helpers import assert_envelope
from screen_worlds import sign_in

from trellis.rule_engine import builtin_registry

EVALUATE = "/api/v1/meta/formulas/evaluate"


@pytest.fixture()
def world(tenant: TenantFixture) -> FormulaWorld:
    return build_formula_world(tenant)


def evaluate(world: FormulaWorld, expression: str, key: str = "big", **extra: Any) -> Any:
    body = {"object": "Deal", "expression": expression, "record_id": world.ids[key], **extra}
    response = world.tenant.api("POST", EVALUATE, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_formula_gives_its_value_on_a_record(world: FormulaWorld) -> None:
    rule = 'AND(Amount > 1000, Account.Industry = "Manufacturing")'
    assert evaluate(world, rule) == {"valid": True, "return_type": "checkbox", "value": True}
    assert evaluate(world, rule, "small")["value"] is False
    doubled = evaluate(world, "Amount * 2", purpose="formula_field")
    assert doubled["return_type"] == "currency" and Decimal(doubled["value"]) == 3000
    name = evaluate(world, "UPPER(Account.Name)", purpose="formula_field")
    assert name["value"] == "ACME CORPORATION"
    assert evaluate(world, "Account.Name", "small", purpose="formula_field")["value"] is None
    created = evaluate(world, "DATEVALUE(CreatedDate)", purpose="formula_field")
    assert created["return_type"] == "date" and len(created["value"]) == 10


def test_errors_come_with_their_position_and_suggestion(world: FormulaWorld) -> None:
    typo = evaluate(world, "Amout > 1")
    assert typo["valid"] is False
    error = typo["error"]
    assert (error["line"], error["column"], error["offsets"]) == (1, 1, [0, 5])
    assert error["suggestion"] == "Amount"
    wrong_type = evaluate(world, "Amount")  # a validation rule must be TRUE or FALSE
    assert wrong_type["valid"] is False and wrong_type["error"]["type"] == "type"
    runtime = evaluate(world, "Amount / 0 > 1")
    assert runtime["valid"] is False and runtime["error"]["type"] == "runtime"
    assert runtime["error"]["offsets"] is not None


def test_bad_requests_and_unknown_records(world: FormulaWorld) -> None:
    tenant = world.tenant
    assert_envelope(tenant.api("POST", EVALUATE, json={"object": "Deal", "expression": "1"}), 400)
    missing = {"object": "Deal", "expression": "TRUE", "record_id": world.ids["acme"]}
    assert_envelope(tenant.api("POST", EVALUATE, json=missing), 404)  # an Account's id
    nobody = {**missing, "record_id": "00000000-0000-0000-0000-000000000000"}
    assert_envelope(tenant.api("POST", EVALUATE, json=nobody), 404)
    assert_envelope(tenant.api("POST", EVALUATE, json={**missing, "record_id": "x"}), 404)
    assert_envelope(tenant.api("POST", EVALUATE, json={**missing, "object": "Nope"}), 404)


def builder(tenant: TenantFixture, **document: Any) -> Member:
    """A user who manages metadata but reads records only as ``document`` says."""
    permission_set(tenant, "builder", system=["api", "manage_metadata"], **document)
    return member(tenant, "builder", permission_sets=["builder"])


def test_the_callers_own_access_applies(world: FormulaWorld) -> None:
    tenant = world.tenant
    private = {**ACCOUNT, "sharing_model": "private"}
    response = tenant.api("PUT", "/api/v1/meta/objects/Account", json=private)
    assert response.status_code == 200, response.get_data(as_text=True)
    rights = {"read": True, "create": True, "edit": True}
    them = builder(
        tenant,
        objects={"Deal": rights, "Account": rights},
        fields={"Deal.Discount": {"read": False}},
    )
    body = {"object": "Deal", "record_id": world.ids["big"], "purpose": "formula_field"}
    # The related Account is the administrator's and private: it reads as blank.
    through = them.api("POST", EVALUATE, json={**body, "expression": "Account.Name"})
    assert through.status_code == 200 and through.get_json()["value"] is None
    assert them.api("POST", EVALUATE, json={**body, "expression": "Name"}).get_json()["value"] == (
        "Big order"
    )
    hidden = them.api("POST", EVALUATE, json={**body, "expression": "Discount * 2"})
    assert assert_envelope(hidden, 403)["code"] == "unreadable_field"
    # A record they may not read at all is not found.
    mine = create(tenant, "Account", Name="Private")
    unseen = {"object": "Account", "record_id": mine, "expression": "Name"}
    assert_envelope(them.api("POST", EVALUATE, json={**unseen, "purpose": "formula_field"}), 404)


def test_the_endpoint_needs_a_right_that_writes_formulas(world: FormulaWorld) -> None:
    permission_set(world.tenant, "reader", all_objects={"read": True})
    reader = member(world.tenant, "reader", permission_sets=["reader"])
    body = {"object": "Deal", "expression": "TRUE", "record_id": world.ids["big"]}
    assert_envelope(reader.api("POST", EVALUATE, json=body), 403)
    # An automations admin tries the formulas of the builder, with their own access.
    permission_set(
        world.tenant,
        "automator",
        system=["api", "manage_automations"],
        objects={"Deal": {"read": True}},
    )
    automator = member(world.tenant, "automator", permission_sets=["automator"])
    tried = automator.api("POST", EVALUATE, json={**body, "expression": "Amount > 1000"})
    assert tried.status_code == 200 and tried.get_json()["value"] is True
    account = {"object": "Account", "expression": "TRUE", "record_id": world.ids["acme"]}
    assert_envelope(automator.api("POST", EVALUATE, json=account), 403)  # no Account read


def test_the_editor_data_for_setup_users(client: Any, world: FormulaWorld) -> None:
    tenant = world.tenant
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    functions = client.get("/setup/formulas/functions").get_json()["data"]
    by_name = {entry["name"]: entry for entry in functions}
    assert by_name["IF"]["signature"] == "IF(condition, value_if_true, value_if_false)"
    assert by_name["ISPICKVAL"]["category"] == "Logical" and by_name["LEFT"]["description"]
    assert set(builtin_registry()) <= set(by_name)  # generated from the registry
    fields = client.get("/setup/formulas/fields/Deal").get_json()
    account = next(field for field in fields["data"] if field["name"] == "Account")
    assert account["target"] == "Account" and fields["label"] == "Deal"
    assert {"name": "Amount", "label": "Amount", "type": "currency", "target": None} in fields[
        "data"
    ]
    assert client.get("/setup/formulas/fields/Nope").status_code == 404
    found = client.get("/setup/formulas/records/Deal?q=big").get_json()
    assert found == {"data": [{"id": world.ids["big"], "name": "Big order"}], "more": False}


def test_the_editor_data_is_for_setup_users_only(client: Any, world: FormulaWorld) -> None:
    permission_set(world.tenant, "reader", all_objects={"read": True})
    member(world.tenant, "reader", permission_sets=["reader"])
    sign_in(client, world.tenant, f"reader@{world.tenant.slug}.test", PASSWORD)
    for path in ("functions", "fields/Deal", "records/Deal"):
        assert client.get(f"/setup/formulas/{path}").status_code == 403, path


def test_an_automations_admin_finds_records_to_try_on(client: Any, world: FormulaWorld) -> None:
    permission_set(
        world.tenant, "automator", system=["manage_automations"], all_objects={"read": True}
    )
    member(world.tenant, "automator", permission_sets=["automator"])
    sign_in(client, world.tenant, f"automator@{world.tenant.slug}.test", PASSWORD)
    found = client.get("/setup/formulas/records/Deal?q=small").get_json()
    assert found["data"] == [{"id": world.ids["small"], "name": "Small order"}]


def test_an_action_value_may_read_prior_values(world: FormulaWorld) -> None:
    check = "/api/v1/meta/formulas/check"
    body = {"object": "Deal", "expression": "PRIORVALUE(Amount) * 2"}
    value = world.tenant.api("POST", check, json={**body, "purpose": "action_value"})
    assert value.get_json()["valid"] is True
    default = world.tenant.api("POST", check, json={**body, "purpose": "default"})
    assert default.get_json()["valid"] is False
