"""The User object: users as records that administrators extend with fields, read in
formulas as $User.<Field> and kept in step with the accounts."""

from __future__ import annotations

from typing import Any

from access_helpers import Member, create, member
from conftest import TenantFixture
from helpers import assert_envelope

from trellis.automation.execute import execute_run
from trellis.metadata.statements import Statement
from trellis.outbox.dispatch import dispatch_pending
from trellis.outbox.tasks import consumers_of


def test_users_become_records_that_admins_extend(tenant: TenantFixture) -> None:
    manager = member(tenant, "manager")
    rep = member(tenant, "rep")
    tenant.api("PATCH", f"/api/v1/users/{rep.id}", json={"manager_id": str(manager.id)})
    record = tenant.api("GET", f"/api/v1/objects/User/records/{rep.id}").get_json()
    assert record["Email"] == f"rep@{tenant.slug}.test" and record["Active"] is True
    assert record["Manager"] == str(manager.id) and record["owner_id"] is None
    # An administrator adds a field and fills it in; the platform's fields stay its own.
    added = tenant.api(
        "POST",
        "/api/v1/meta/objects/User/fields",
        json={"api_name": "Region", "type": "picklist", "values": ["EMEA", "Americas"]},
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    path = f"/api/v1/objects/User/records/{rep.id}"
    assert tenant.api("PATCH", path, json={"Region": "EMEA"}).status_code == 200
    assert_envelope(
        tenant.api("PATCH", path, json={"Email": "x@y.test"}), 403, "field_not_editable"
    )
    assert_envelope(
        tenant.api("POST", "/api/v1/objects/User/records", json={"Name": "Ghost"}),
        403,
        "managed_records",
    )
    assert_envelope(tenant.api("DELETE", path), 403, "managed_records")
    # Users read each other's records, but only administrators change them.
    assert rep.api("GET", f"/api/v1/objects/User/records/{manager.id}").status_code == 200
    assert_envelope(rep.api("PATCH", path, json={"Region": "Americas"}), 403, "no_record_access")
    # Syncing again keeps the administrator's field.
    tenant.api("PATCH", f"/api/v1/users/{rep.id}", json={"manager_id": None})
    again = tenant.api("GET", path).get_json()
    assert again["Region"] == "EMEA" and again["Manager"] is None


def test_formulas_read_the_acting_users_fields(tenant: TenantFixture) -> None:
    emea, other = member(tenant, "emea"), member(tenant, "other")
    tenant.api(
        "POST",
        "/api/v1/meta/objects/User/fields",
        json={"api_name": "Region", "type": "text"},
    )
    tenant.api("PATCH", f"/api/v1/objects/User/records/{emea.id}", json={"Region": "EMEA"})
    deal = {
        "api_name": "Deal",
        "label": "Deal",
        "fields": [
            {"api_name": "Amount", "type": "number", "scale": 0},
            {"api_name": "Region", "type": "text", "default_formula": "$User.Region"},
        ],
        "validation_rules": [
            {
                "name": "emea_cap",
                "condition": 'AND($User.Region = "EMEA", Amount > 100)',
                "message": "EMEA deals above 100 need a manager.",
            }
        ],
    }
    created = tenant.api("POST", "/api/v1/meta/objects", json=deal)
    assert created.status_code == 201, created.get_data(as_text=True)
    refused = emea.api("POST", "/api/v1/objects/Deal/records", json={"Amount": 500})
    assert_envelope(refused, 422)
    small = emea.api("POST", "/api/v1/objects/Deal/records", json={"Amount": 50}).get_json()
    assert small["Region"] == "EMEA"
    theirs = other.api("POST", "/api/v1/objects/Deal/records", json={"Amount": 500})
    assert theirs.status_code == 201 and theirs.get_json()["Region"] is None

    def check(expression: str) -> dict:
        return tenant.api(
            "POST",
            "/api/v1/meta/formulas/check",
            json={"object": "Deal", "expression": expression, "purpose": "formula_field"},
        ).get_json()

    assert check("$User.Region")["valid"] is True
    assert check("$User.Nope")["valid"] is False


def _user_field(tenant: TenantFixture, **definition: Any) -> None:
    response = tenant.api("POST", "/api/v1/meta/objects/User/fields", json=definition)
    assert response.status_code == 201, response.get_data(as_text=True)


def _set_user(tenant: TenantFixture, who: Member, **values: Any) -> None:
    path = f"/api/v1/objects/User/records/{who.id}"
    response = tenant.api("PATCH", path, json=values)
    assert response.status_code == 200, response.get_data(as_text=True)


def _define(tenant: TenantFixture, definition: dict[str, Any]) -> None:
    response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
    assert response.status_code == 201, response.get_data(as_text=True)


def _rows(who: Member | TenantFixture, api_name: str, **params: str) -> dict[str, dict[str, Any]]:
    response = who.api("GET", f"/api/v1/objects/{api_name}/records", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {row["id"]: row for row in response.get_json()["data"]}


DEAL = {
    "api_name": "Deal",
    "label": "Deal",
    "fields": [
        {"api_name": "Name", "type": "text"},
        {"api_name": "Region", "type": "text"},
        {"api_name": "Contact", "type": "email"},
        {"api_name": "Amount", "type": "number", "scale": 0},
        {
            "api_name": "Mine",
            "type": "formula",
            "return_type": "checkbox",
            "expression": "Region = $User.Region",
        },
        {
            "api_name": "Seen",
            "type": "formula",
            "return_type": "text",
            "expression": '$User.Email & " in " & $User.Region',
        },
        {
            "api_name": "Rank",
            "type": "formula",
            "return_type": "text",
            "expression": 'IF($User.Senior, "senior", "junior")',
        },
    ],
}


def test_sql_formulas_read_the_users_of_each_request(tenant: TenantFixture) -> None:
    """where=, formula fields (read, listed, filtered, sorted, written) are computed in
    SQL for whoever asks, with one cached statement serving every user."""
    emea, americas, nobody = (member(tenant, name) for name in ("emea", "americas", "nobody"))
    _user_field(tenant, api_name="Region", type="text")
    _user_field(tenant, api_name="Senior", type="checkbox")
    _set_user(tenant, emea, Region="EMEA", Senior=True)
    _set_user(tenant, americas, Region="Americas")
    _define(tenant, DEAL)
    theirs = create(
        tenant,
        "Deal",
        Name="a",
        Region="EMEA",
        Contact=f"emea@{tenant.slug}.test",
        owner_id=str(emea.id),
    )
    ours = create(tenant, "Deal", Name="b", Region="Americas", owner_id=str(americas.id))
    unplaced = create(tenant, "Deal", Name="c")
    mine = "Region = $User.Region"
    # Alternating users: a statement cached with the first user's values would fail here.
    assert emea.ids("Deal", where=mine) == {theirs}
    assert americas.ids("Deal", where=mine) == {ours}
    assert emea.ids("Deal", where=mine) == {theirs}
    assert nobody.ids("Deal", where=mine) == {unplaced}  # blank equals blank, as in Python
    assert emea.ids("Deal", where="Contact = $User.Email") == {theirs}
    assert americas.ids("Deal", where="Contact = $User.Email") == set()
    assert emea.ids("Deal", where="owner_id = $User.Id") == {theirs}
    assert americas.ids("Deal", where="OwnerId = $USER.ID") == {ours}
    assert nobody.ids("Deal", where="owner_id = $User.Id") == set()
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        schema = state.metadata_cache.get(connection, tenant.id)
    where_pages = [
        key
        for key in schema.statements._built
        if key.statement is Statement.LIST_PAGE and ("where", mine) in key.shape[3]
    ]
    assert len(where_pages) == 1  # one statement for all three users
    # A formula field is the viewer's: listed, read, filtered on, sorted by.
    as_emea, as_americas = _rows(emea, "Deal"), _rows(americas, "Deal")
    assert [as_emea[theirs]["Mine"], as_emea[ours]["Mine"]] == [True, False]
    assert [as_americas[theirs]["Mine"], as_americas[ours]["Mine"]] == [False, True]
    assert as_emea[ours]["Seen"] == f"emea@{tenant.slug}.test in EMEA"
    assert as_americas[ours]["Seen"] == f"americas@{tenant.slug}.test in Americas"
    assert _rows(nobody, "Deal")[ours]["Seen"] == f"nobody@{tenant.slug}.test in "
    assert [as_emea[ours]["Rank"], as_americas[ours]["Rank"]] == ["senior", "junior"]
    assert emea.ids("Deal", where="$User.Senior") == {theirs, ours, unplaced}
    assert americas.ids("Deal", where="NOT($User.Senior)") == {theirs, ours, unplaced}
    assert americas.ids("Deal", where="$User.Senior") == set()
    single = americas.api("GET", f"/api/v1/objects/Deal/records/{theirs}").get_json()
    assert single["Mine"] is False and single["Seen"].endswith(" in Americas")
    assert emea.ids("Deal", where="Mine") == {theirs}
    assert americas.ids("Deal", Mine="true") == {ours}
    first = americas.api(
        "GET", "/api/v1/objects/Deal/records", query_string={"sort": "-Mine,Name", "limit": "1"}
    ).get_json()["data"]
    assert [row["id"] for row in first] == [ours]
    written = americas.api("PATCH", f"/api/v1/objects/Deal/records/{theirs}", json={"Name": "A"})
    assert written.status_code == 200 and written.get_json()["Mine"] is False
    moved = emea.api("PATCH", f"/api/v1/objects/Deal/records/{ours}", json={"Region": "EMEA"})
    assert moved.get_json()["Mine"] is True and moved.get_json()["Seen"].endswith(" in EMEA")


def test_rollup_filters_and_field_level_security_of_user_fields(tenant: TenantFixture) -> None:
    emea, americas = member(tenant, "emea"), member(tenant, "americas")
    _user_field(tenant, api_name="Region", type="text")
    _user_field(tenant, api_name="Quota", type="number", scale=0)
    _set_user(tenant, emea, Region="EMEA", Quota=100)
    _set_user(tenant, americas, Region="Americas", Quota=1000)
    _define(
        tenant,
        {
            "api_name": "Account",
            "label": "Account",
            "fields": [{"api_name": "Name", "type": "text"}],
        },
    )
    _define(
        tenant,
        {
            **DEAL,
            "fields": [
                *DEAL["fields"][:4],
                {"api_name": "Account", "type": "lookup", "target": "Account"},
            ],
        },
    )
    rollup = {
        "api_name": "InMyRegion",
        "type": "rollup",
        "summarized_object": "Deal",
        "relationship_field": "Account",
        "function": "COUNT",
        "filter": "Region = $User.Region",
    }
    added = tenant.api("POST", "/api/v1/meta/objects/Account/fields", json=rollup)
    assert added.status_code == 201, added.get_data(as_text=True)
    account = create(tenant, "Account", Name="Acme")
    low = create(tenant, "Deal", Region="EMEA", Amount=50, Account=account)
    large = create(
        tenant, "Deal", Region="EMEA", Amount=500, Account=account, owner_id=str(emea.id)
    )
    far = create(tenant, "Deal", Region="Americas", Amount=5000, Account=account)
    path = f"/api/v1/objects/Account/records/{account}"
    assert emea.api("GET", path).get_json()["InMyRegion"] == 2
    assert americas.api("GET", path).get_json()["InMyRegion"] == 1
    assert tenant.api("GET", path).get_json()["InMyRegion"] == 0  # the admin has no region
    assert emea.ids("Deal", where="Amount > $User.Quota") == {large, far}
    assert americas.ids("Deal", where="Amount > $User.Quota") == {far}
    assert americas.ids("Deal", where="Owner.Quota = 100") == {large}
    # A User field the actor may not read is unknown to their where= formulas, however
    # reached; their own id and email stay theirs.
    response = tenant.api(
        "POST",
        "/api/v1/meta/permission-sets",
        json={
            "api_name": "no_quota",
            "label": "No quota",
            "all_objects": {"read": True, "create": True, "edit": True},
            "system": ["api"],
            "fields": {"User.Quota": {"read": False}},
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    tenant.api("PATCH", f"/api/v1/users/{americas.id}", json={"permission_sets": ["no_quota"]})
    for where in ("Amount > $User.Quota", "Owner.Quota = 100", "ISBLANK($user.quota)"):
        refused = americas.api("GET", "/api/v1/objects/Deal/records", query_string={"where": where})
        assert "where" in assert_envelope(refused, 400, "unknown_field")["errors"]
    assert americas.ids("Deal", where="Region = $User.Region") == {far}
    every = f'$User.Email = "americas@{tenant.slug}.test"'
    assert americas.ids("Deal", where=every) == {low, large, far}
    assert emea.ids("Deal", where=every) == set()
    assert emea.ids("Deal", where="Owner.Quota = 100") == {large}  # emea may read Quota


def _automation(tenant: TenantFixture, definition: dict[str, Any]) -> Any:
    return tenant.api("POST", "/api/v1/meta/automations", json={"object": "Deal", **definition})


def test_automations_read_the_user_who_made_the_change(tenant: TenantFixture) -> None:
    """Before-save conditions run in the save; after-save ones are judged later, by the
    dispatcher, and their actions later still, by a worker: all read $User as the user
    whose change it was, in Python and in the SQL of a related-records filter. A
    scheduled filter has no such user and may not read one."""
    emea, other = member(tenant, "emea"), member(tenant, "other")
    _user_field(tenant, api_name="Region", type="text")
    _set_user(tenant, emea, Region="EMEA")
    _set_user(tenant, other, Region="Americas")
    _define(
        tenant,
        {
            "api_name": "Deal",
            "label": "Deal",
            "fields": [
                {"api_name": "Name", "type": "text"},
                {"api_name": "Desk", "type": "text"},
                {"api_name": "Followed", "type": "text"},
            ],
        },
    )
    _define(
        tenant,
        {
            "api_name": "Line",
            "label": "Line",
            "fields": [
                {"api_name": "Deal", "type": "lookup", "target": "Deal"},
                {"api_name": "Region", "type": "text"},
                {"api_name": "Touched", "type": "text"},
            ],
        },
    )
    emea_only = '$User.Region = "EMEA"'
    before = {
        "api_name": "desk",
        "trigger": "created",
        "timing": "before_save",
        "condition": emea_only,
        "actions": [{"type": "update_fields", "values": {"Desk": '"EMEA desk"'}}],
    }
    after = {
        "api_name": "follow",
        "trigger": "updated",
        "timing": "after_save",
        "condition": emea_only,
        "actions": [
            {"type": "update_fields", "values": {"Followed": '"by " & $User.Email'}},
            {
                "type": "update_related",
                "object": "Line",
                "lookup": "Deal",
                "filter": "Region = $User.Region",
                "values": {"Touched": '"yes"'},
            },
        ],
    }
    for definition in (before, after):
        response = _automation(tenant, definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    theirs = emea.api("POST", "/api/v1/objects/Deal/records", json={"Name": "a"}).get_json()
    ours = other.api("POST", "/api/v1/objects/Deal/records", json={"Name": "b"}).get_json()
    assert theirs["Desk"] == "EMEA desk" and ours["Desk"] is None
    near = create(tenant, "Line", Deal=theirs["id"], Region="EMEA")
    far = create(tenant, "Line", Deal=theirs["id"], Region="Americas")
    elsewhere = create(tenant, "Line", Deal=ours["id"], Region="EMEA")
    for who, deal in ((emea, theirs), (other, ours)):
        path = f"/api/v1/objects/Deal/records/{deal['id']}"
        assert who.api("PATCH", path, json={"Name": "renamed"}).status_code == 200
    state = tenant.app.extensions["trellis"]
    dispatch_pending(state.database, state.metadata_cache, consumers_of(state))
    queued = tenant.api("GET", "/api/v1/automation-runs", query_string={"automation": "follow"})
    [run] = queued.get_json()["data"]
    assert run["record_id"] == theirs["id"]
    status = execute_run(state.database, state.metadata_cache, state.config, tenant.id, run["id"])
    assert status == "succeeded"
    deals = _rows(tenant, "Deal")
    assert deals[theirs["id"]]["Followed"] == f"by emea@{tenant.slug}.test"
    assert deals[ours["id"]]["Followed"] is None
    lines = _rows(tenant, "Line")
    assert [lines[line]["Touched"] for line in (near, far, elsewhere)] == ["yes", None, None]
    refused = _automation(
        tenant,
        {
            "api_name": "nightly",
            "trigger": "scheduled",
            "timing": "after_save",
            "schedule": "0 3 * * *",
            "filter": "Name = $User.Region",
            "actions": [{"type": "update_fields", "values": {"Desk": '"night"'}}],
        },
    )
    errors = assert_envelope(refused, 422)["errors"]
    assert "no acting user" in errors["automations.nightly.filter"][0]


def test_owner_paths_read_the_owners_user_record(tenant: TenantFixture) -> None:
    """``Owner.<Field>`` is the owner's User record, in Python (a validation rule) and in
    SQL (a formula field) alike."""
    emea, other = member(tenant, "emea"), member(tenant, "other")
    _user_field(tenant, api_name="Region", type="text")
    _set_user(tenant, emea, Region="EMEA")
    _define(
        tenant,
        {
            "api_name": "Deal",
            "label": "Deal",
            "fields": [
                {"api_name": "Amount", "type": "number", "scale": 0},
                {
                    "api_name": "OwnerRegion",
                    "type": "formula",
                    "return_type": "text",
                    "expression": 'Owner.Region & "/" & Owner.Email',
                },
            ],
            "validation_rules": [
                {
                    "name": "emea_cap",
                    "condition": 'AND(Owner.Region = "EMEA", Amount > 100)',
                    "message": "Deals owned in EMEA stay under 100.",
                }
            ],
        },
    )
    records = "/api/v1/objects/Deal/records"
    refused = tenant.api("POST", records, json={"Amount": 500, "owner_id": str(emea.id)})
    assert "Deals owned in EMEA stay under 100." in str(assert_envelope(refused, 422)["errors"])
    small = tenant.api("POST", records, json={"Amount": 50, "owner_id": str(emea.id)})
    assert small.get_json()["OwnerRegion"] == f"EMEA/emea@{tenant.slug}.test"
    large = tenant.api("POST", records, json={"Amount": 500, "owner_id": str(other.id)})
    assert large.status_code == 201 and large.get_json()["OwnerRegion"] == (
        f"/other@{tenant.slug}.test"
    )
    assert emea.ids("Deal", where='Owner.Region = "EMEA"') == {small.get_json()["id"]}

    def check(expression: str) -> bool:
        return tenant.api(
            "POST",
            "/api/v1/meta/formulas/check",
            json={"object": "Deal", "expression": expression, "purpose": "filter"},
        ).get_json()["valid"]

    assert check('Owner.Manager.Region = "EMEA"') and check('$User.Region = "EMEA"')
    assert not check('Owner.Nope = "x"')
