"""``fields=`` on the records API: the fields a read returns, and lookups expanded into
their related records (one and two levels deep) in the page's one statement, through the
access gate and field-level security."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from access_helpers import Member, create, member
from conftest import TenantFixture
from helpers import assert_envelope
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

SYSTEM = {"id", "version", "created_at", "updated_at", "created_by", "updated_by", "owner_id"}
REGION = {
    "api_name": "Region",
    "label": "Region",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Code", "type": "text"},
    ],
}
ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "sharing_model": "private",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Revenue", "type": "number", "scale": 0},
        {"api_name": "Region", "type": "lookup", "target": "Region"},
        # A formula through a lookup of its own: evaluated inside the expansion.
        {
            "api_name": "Label",
            "type": "formula",
            "return_type": "text",
            "expression": 'Name & " / " & Region.Code',
        },
    ],
}
DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Amount", "type": "currency"},
        {"api_name": "Account", "type": "lookup", "target": "Account"},
    ],
}
DEALS = "/api/v1/objects/Deal/records"


@pytest.fixture()
def world(tenant: TenantFixture) -> dict[str, Any]:
    """Regions, private accounts (Acme the administrator's, Globex the rep's) and deals
    (open to all) on each account and on none."""
    for definition in (REGION, ACCOUNT, DEAL):
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    permission_set(tenant, "rep", {})
    permission_set(tenant, "limited", {"Account.Revenue": {"read": False}})
    reps = [member(tenant, name, permission_sets=["rep"]) for name in ("rep", "rep2")]
    limited = member(tenant, "limited", permission_sets=["limited"])
    north = create(tenant, "Region", Name="North", Code="N")
    acme = create(tenant, "Account", Name="Acme", Revenue=100, Region=north)
    globex = create(tenant, "Account", Name="Globex", owner_id=str(reps[0].id))
    deals = {
        "acme": create(tenant, "Deal", Name="a acme deal", Amount=10, Account=acme),
        "globex": create(tenant, "Deal", Name="b globex deal", Account=globex),
        "none": create(tenant, "Deal", Name="c no account"),
    }
    return {
        "rep": reps[0],
        "rep2": reps[1],
        "limited": limited,
        "north": north,
        "acme": acme,
        "globex": globex,
        "deals": deals,
    }


def permission_set(tenant: TenantFixture, name: str, fields: dict[str, Any]) -> None:
    response = tenant.api(
        "POST",
        "/api/v1/meta/permission-sets",
        json={
            "api_name": name,
            "label": name,
            "all_objects": {"read": True, "create": True, "edit": True},
            "system": ["api"],
            "fields": fields,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def rows(who: TenantFixture | Member, fields: str, url: str = DEALS, **params: str) -> list[dict]:
    response = who.api("GET", url, query_string={"fields": fields, "sort": "Name", **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


@contextmanager
def statements(tenant: TenantFixture) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    engine = tenant.app.extensions["trellis"].database.engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)


def cached_statements(tenant: TenantFixture) -> int:
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        return len(state.metadata_cache.get(connection, tenant.id).statements)


def test_fields_choose_what_a_record_returns(tenant: TenantFixture, world: dict) -> None:
    acme, globex = world["acme"], world["globex"]
    listed = rows(tenant, "Name,Account")
    assert [set(row) for row in listed] == [SYSTEM | {"Name", "Account"}] * 3
    # A lookup named alone is its record's id.
    assert [row["Account"] for row in listed] == [acme, globex, None]
    # Names are case-insensitive and answered as metadata spells them; system fields are
    # always there, so naming them adds nothing.
    assert set(rows(tenant, "name,created_at,id")[0]) == SYSTEM | {"Name"}
    one = tenant.api("GET", f"{DEALS}/{world['deals']['acme']}", query_string={"fields": "Amount"})
    assert one.status_code == 200 and one.headers["ETag"] == '"1"'
    assert one.get_json()["Amount"] == 10 and set(one.get_json()) == SYSTEM | {"Amount"}


def test_lookups_expand_one_and_two_levels_deep(tenant: TenantFixture, world: dict) -> None:
    fields = (
        "Name,Account.Name,Account.Label,Account.Revenue,Account.Region.Name,Account.Region.Code"
    )
    acme_deal, globex_deal, no_account = rows(tenant, fields)
    assert acme_deal["Account"] == {
        "id": world["acme"],
        "Name": "Acme",
        "Label": "Acme / N",
        "Revenue": 100,
        "Region": {"id": world["north"], "Name": "North", "Code": "N"},
    }
    # A blank lookup stays null, at either level.
    assert globex_deal["Account"] == {
        "id": world["globex"],
        "Name": "Globex",
        "Label": "Globex / ",  # text formulas treat a blank as ""
        "Revenue": None,
        "Region": None,
    }
    assert no_account["Account"] is None and no_account["Name"] == "c no account"
    assert set(acme_deal) == SYSTEM | {"Name", "Account"}
    # Asking for the related id alone gives the object form all the same; a lookup named
    # alone and through is expanded; a lookup asked alone one level down stays an id.
    assert rows(tenant, "Account.id")[0]["Account"] == {"id": world["acme"]}
    assert rows(tenant, "Account,Account.Name")[0]["Account"] == {
        "id": world["acme"],
        "Name": "Acme",
    }
    assert rows(tenant, "Account.Region")[0]["Account"] == {
        "id": world["acme"],
        "Region": world["north"],
    }
    # Paths end on system fields of the related record too.
    owner = rows(tenant, "Account.owner_id")[1]["Account"]
    assert owner == {"id": world["globex"], "owner_id": str(world["rep"].id)}


def test_a_single_read_and_a_related_list_take_fields(tenant: TenantFixture, world: dict) -> None:
    url = f"{DEALS}/{world['deals']['acme']}"
    read = tenant.api("GET", url, query_string={"fields": "Name,Account.Region.Name"})
    assert read.status_code == 200, read.get_data(as_text=True)
    assert read.get_json()["Account"] == {
        "id": world["acme"],
        "Region": {"id": world["north"], "Name": "North"},
    }
    # The ETag is the deal's version: a related record may have changed without it, so an
    # expanded read is always answered in full; a plain one may be "not modified".
    etag = {"If-None-Match": read.headers["ETag"]}
    expanded = tenant.api("GET", url, query_string={"fields": "Account.Name"}, headers=etag)
    assert expanded.status_code == 200 and expanded.get_json()["Account"]["Name"] == "Acme"
    plain = tenant.api("GET", url, query_string={"fields": "Name"}, headers=etag)
    assert plain.status_code == 304
    related = f"/api/v1/objects/Account/records/{world['acme']}/related/Deal.Account"
    [deal] = rows(tenant, "Name,Account.Name,Account.Region.Code", url=related)
    assert deal["Name"] == "a acme deal"
    assert deal["Account"] == {
        "id": world["acme"],
        "Name": "Acme",
        "Region": {"id": world["north"], "Code": "N"},
    }


def test_a_related_record_the_actor_cannot_read_is_its_id_alone(
    tenant: TenantFixture, world: dict
) -> None:
    rep, rep2 = world["rep"], world["rep2"]
    fields = "Name,Account.Name,Account.Region.Name"
    with statements(tenant) as sent:
        # Accounts are private: the rep reads Globex (theirs), not Acme.
        acme_deal, globex_deal, _ = rows(rep, fields)
        # The second rep has the same rights and owns no account.
        second = rows(rep2, fields)
    assert acme_deal["Account"] == {"id": world["acme"]}
    assert globex_deal["Account"] == {"id": world["globex"], "Name": "Globex", "Region": None}
    assert [row["Account"] for row in second] == [
        {"id": world["acme"]},
        {"id": world["globex"]},
        None,
    ]
    # One statement serves every actor with the same rights (the reader is a parameter).
    pages = [statement for statement in sent if "ref_1" in statement]
    assert len(pages) == 2 and pages[0] == pages[1]
    # A single read says the same; the administrator reads everything.
    url = f"{DEALS}/{world['deals']['acme']}"
    one = rep.api("GET", url, query_string={"fields": "Account.Name"})
    assert one.get_json()["Account"] == {"id": world["acme"]}
    assert rows(tenant, fields)[0]["Account"]["Name"] == "Acme"
    # The related list of a record they cannot read is not found at all.
    related = f"/api/v1/objects/Account/records/{world['acme']}/related/Deal.Account"
    assert_envelope(rep.api("GET", related, query_string={"fields": "Name"}), 404)


def test_hidden_fields_are_refused_like_unknown_ones(tenant: TenantFixture, world: dict) -> None:
    limited = world["limited"]
    url = f"{DEALS}/{world['deals']['acme']}"

    def refusal(fields: str, path: str = DEALS) -> dict:
        body = assert_envelope(
            limited.api("GET", path, query_string={"fields": fields}), 400, "unknown_field"
        )
        assert fields in body["error"]
        assert body["errors"] == {"fields": [f"Unknown field {fields!r}."]}
        return body

    hidden, unknown = refusal("Account.Revenue"), refusal("Account.Revenux")
    # Nothing tells a hidden field from one that does not exist.
    assert hidden["error"].replace("Revenue", "X") == unknown["error"].replace("Revenux", "X")
    refusal("Account.Revenue", url)
    mine = create(tenant, "Account", Name="Mine", owner_id=str(limited.id))
    related = f"/api/v1/objects/Account/records/{mine}/related/Deal.Account"
    assert_envelope(
        limited.api("GET", related, query_string={"fields": "Account.Revenue"}),
        400,
        "unknown_field",
    )
    # The filters refuse it the same way; the fields they may read still expand.
    assert_envelope(
        limited.api("GET", DEALS, query_string={"where": "Account.Revenue > 0"}),
        400,
        "unknown_field",
    )
    assert rows(limited, "Account.Name", url=related) == []
    deal = create(tenant, "Deal", Name="mine", Account=mine)
    [row] = rows(limited, "Account.Name", url=related)
    assert row["id"] == deal and row["Account"] == {"id": mine, "Name": "Mine"}
    # Reads of the related record itself leave the hidden field out.
    assert "Revenue" not in limited.api("GET", f"/api/v1/objects/Account/records/{mine}").get_json()


def test_unknown_paths_are_400s_naming_the_path(tenant: TenantFixture, world: dict) -> None:
    for path in ("Nope", "Account.Nope", "Amount.Name", "Account..Name", "Account.", "Region.X"):
        body = assert_envelope(
            tenant.api("GET", DEALS, query_string={"fields": f"Name,{path}"}), 400, "unknown_field"
        )
        assert repr(path) in body["error"], path
    deep = assert_envelope(
        tenant.api("GET", DEALS, query_string={"fields": "Account.Region.Name.Code"}),
        400,
        "unknown_field",
    )
    assert "at most 2 lookups" in deep["error"]
    single = tenant.api("GET", f"{DEALS}/{world['deals']['acme']}", query_string={"fields": "X.Y"})
    assert_envelope(single, 400, "unknown_field")


def test_the_statement_count_does_not_grow_with_the_page(
    tenant: TenantFixture, world: dict
) -> None:
    for number in range(20):
        region = create(tenant, "Region", Name=f"Region {number}", Code=f"R{number}")
        account = create(tenant, "Account", Name=f"Account {number}", Region=region)
        create(tenant, "Deal", Name=f"d{number:02}", Account=account)
    fields = "Name,Account.Name,Account.Label,Account.Region.Name"
    counts = {}
    for limit in ("1", "23"):
        rows(tenant, fields, limit=limit)  # builds and caches this shape's statement
        with statements(tenant) as sent:
            page = rows(tenant, fields, limit=limit)
        counts[limit] = len(sent)
        assert len([statement for statement in sent if "ref_1" in statement]) == 1
    assert counts["1"] == counts["23"]
    assert len(page) == 23
    # The statement is cached by its projection: asked again, nothing new is built; other
    # fields (or the same in another order) are another statement.
    built = cached_statements(tenant)
    rows(tenant, fields, limit="23")
    assert cached_statements(tenant) == built
    rows(tenant, "Name,Account.Region.Name,Account.Label,Account.Name", limit="23")
    assert cached_statements(tenant) > built
    last = page[-1]
    assert last["Name"] == "d19" and last["Account"]["Label"] == "Account 19 / R19"
    assert last["Account"]["Region"]["Name"] == "Region 19"


def test_the_openapi_document_types_expanded_lookups(tenant: TenantFixture, world: dict) -> None:
    spec = tenant.api("GET", "/api/v1/openapi.json").get_json()
    validate(spec, cls=OpenAPIV31SpecValidator)
    schemas = spec["components"]["schemas"]
    assert schemas["Deal"]["properties"]["Account"] == {
        "anyOf": [
            {"type": ["string", "null"], "format": "uuid"},
            {"$ref": "#/components/schemas/Account"},
        ],
        "title": "Account",
    }
    assert "anyOf" in schemas["Account"]["properties"]["Region"]
    assert schemas["DealInput"]["properties"]["Account"]["format"] == "uuid"  # writes: ids
    paths = spec["paths"]
    operations = [
        paths["/objects/Deal/records"]["get"],
        paths["/objects/Deal/records/{record_id}"]["get"],
        paths["/objects/Account/records/{record_id}/related/Deal.Account"]["get"],
    ]
    for operation in operations:
        [fields] = [each for each in operation["parameters"] if each["name"] == "fields"]
        pattern = fields["schema"]["pattern"]
        assert re.fullmatch(pattern, "Name,Account.Name,Account.Region.Code,created_at")
        assert not re.fullmatch(pattern, "Amount.Name") and not re.fullmatch(pattern, "Nope")
    # Real responses, expanded or not, are what the schema says.
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/Deal", "components": spec["components"]}
    )
    for fields in ("Name,Account.Label,Account.Region.Name", "Account", "Account.id"):
        for row in rows(tenant, fields):
            validator.validate(row)
    bad = {"id": world["deals"]["acme"], "Account": {"Name": "no id"}}
    assert not validator.is_valid(bad)


def test_owner_expands_to_the_owners_user_record(tenant: TenantFixture, world: dict) -> None:
    """``Owner.Name`` reads the owner's User record (the owner_id column's relation),
    as the screens show an owner by name; a field the User object lacks is refused."""
    rep = world["rep"]
    listed = rows(tenant, "Name,Owner.Name,Owner.Email", url="/api/v1/objects/Account/records")
    owners = {row["Name"]: row["Owner"] for row in listed}
    assert owners["Globex"]["id"] == str(rep.id) == listed[1]["owner_id"]
    assert owners["Globex"]["Email"] == f"rep@{tenant.slug}.test"
    assert set(owners["Globex"]) == {"id", "Name", "Email"}
    assert_envelope(
        tenant.api("GET", "/api/v1/objects/Account/records", query_string={"fields": "Owner.Nope"}),
        400,
        "unknown_field",
    )
