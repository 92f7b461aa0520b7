"""Setup → Objects through the Flask client: the objects list with its record counts,
creating an object (and a refused one that changes nothing), adding each kind of field,
a type change's preview and confirmation, a field's deletion, who may use the screens,
and the audit trail of what they change."""

from __future__ import annotations

import re
from typing import Any

from access_helpers import PASSWORD, create, member
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}


def _admin(client: Any, tenant: TenantFixture) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get(url, headers=HTML).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, headers=HTML)


def _object(tenant: TenantFixture, api_name: str) -> dict[str, Any]:
    response = tenant.api("GET", f"/api/v1/meta/objects/{api_name}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _fields(tenant: TenantFixture, api_name: str) -> dict[str, dict[str, Any]]:
    return {f["api_name"]: f for f in _object(tenant, api_name)["fields"]}


def _make(tenant: TenantFixture, api_name: str, *fields: dict[str, Any]) -> None:
    definition = {
        "api_name": api_name,
        "label": api_name,
        "fields": [{"api_name": "Name", "type": "text"}, *fields],
    }
    response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_the_list_shows_each_object_with_its_record_count(
    client: Any, tenant: TenantFixture
) -> None:
    _admin(client, tenant)
    _make(tenant, "Project")
    _make(tenant, "Invoice")
    for name in ("A", "B", "C"):
        create(tenant, "Project", Name=name)
    page = client.get("/setup/objects", headers=HTML).get_data(as_text=True)
    row = re.search(
        r'href="/setup/objects/Project">Project</a>.*?<td class="cell-number">(\d+)</td>',
        page,
        re.S,
    )
    assert row is not None and row.group(1) == "3"
    invoice = re.search(
        r'href="/setup/objects/Invoice">Invoice</a>.*?<td class="cell-number">(\d+)</td>',
        page,
        re.S,
    )
    assert invoice is not None and invoice.group(1) == "0"
    assert "Public read/write" in page


def test_an_object_is_created_with_its_name_field(client: Any, tenant: TenantFixture) -> None:
    _admin(client, tenant)
    created = _post(
        client,
        "/setup/objects/new",
        {
            "label": "Purchase order",
            "plural_label": "Purchase orders",
            "api_name": "",
            "name_label": "Order name",
            "name_type": "text",
            "sharing_model": "private",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    assert created.headers["Location"].endswith("/setup/objects/Purchase_order")
    definition = _object(tenant, "Purchase_order")
    assert definition["sharing_model"] == "private"
    assert definition["plural_label"] == "Purchase orders"
    assert definition["name_field"] == "Name"
    assert definition["fields"][0]["label"] == "Order name"
    detail = client.get("/setup/objects/Purchase_order", headers=HTML).get_data(as_text=True)
    assert "Created the object Purchase order." in detail


def test_a_refused_object_shows_its_errors_and_creates_nothing(
    client: Any, tenant: TenantFixture
) -> None:
    _admin(client, tenant)
    refused = _post(
        client,
        "/setup/objects/new",
        {"label": "Bad", "api_name": "9 lives", "name_type": "text", "sharing_model": "read"},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="field-api_name-error"' in page and "Use a letter" in page
    assert 'value="9 lives"' in page  # the admin's input comes back
    blank = _post(client, "/setup/objects/new", {"label": "", "name_type": "text"})
    assert blank.status_code == 422 and "Give the object a label." in blank.get_data(as_text=True)
    listed = tenant.api("GET", "/api/v1/meta/objects").get_json()["data"]
    assert [obj["api_name"] for obj in listed if obj["api_name"] != "User"] == []
    revisions = tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]
    assert not any("Bad" in row["message"] for row in revisions)


def test_each_kind_of_field_is_added_from_its_own_form(client: Any, tenant: TenantFixture) -> None:
    _make(tenant, "Account")
    _make(tenant, "Deal", {"api_name": "Amount", "type": "number"})
    _admin(client, tenant)
    url = "/setup/objects/Account/fields/new"
    # The form follows the type: a number's precision and scale, a picklist's values.
    number_form = client.get(url, query_string={"type": "number"}).get_data(as_text=True)
    assert 'name="precision"' in number_form and 'name="scale"' in number_form
    assert 'name="values_new"' not in number_form
    picklist_form = client.get(url, query_string={"type": "picklist"}).get_data(as_text=True)
    assert 'name="values_new"' in picklist_form and 'name="precision"' not in picklist_form
    assert '<option value="picklist" selected>' in picklist_form
    formula_form = client.get(url, query_string={"type": "formula"}).get_data(as_text=True)
    assert re.search(
        r'<textarea id="field-expression"[^>]*data-formula-editor data-object="Account"',
        formula_form,
    )
    added = {
        "Score": {"type": "number", "precision": "5", "scale": "1", "indexed": "on"},
        "Stage": {"type": "picklist", "values_new": "New\nWon\nLost", "required": "on"},
        "Parent": {"type": "lookup", "target": "Account", "on_delete": "restrict"},
        "Doubled": {"type": "formula", "expression": "Score * 2", "return_type": "number"},
        "Active": {"type": "checkbox"},
        "Deal_total": {
            "type": "rollup",
            "summarized_object": "Deal",
            "relationship_field": "Account",
            "function": "SUM",
            "summarized_field": "Amount",
        },
    }
    lookup = tenant.api(
        "POST",
        "/api/v1/meta/objects/Deal/fields",
        json={"api_name": "Account", "type": "lookup", "target": "Account"},
    )
    assert lookup.status_code == 201
    for name, settings in added.items():
        response = _post(
            client, url, {"label": name.replace("_", " "), "api_name": name, **settings}
        )
        assert response.status_code == 303, (name, response.get_data(as_text=True))
    fields = _fields(tenant, "Account")
    assert (fields["Score"]["precision"], fields["Score"]["scale"], fields["Score"]["indexed"]) == (
        5,
        1,
        True,
    )
    assert fields["Stage"]["values"] == ["New", "Won", "Lost"] and fields["Stage"]["required"]
    assert (fields["Parent"]["target"], fields["Parent"]["on_delete"]) == ("Account", "restrict")
    assert fields["Doubled"]["expression"] == "Score * 2"
    assert fields["Deal_total"]["function"] == "SUM"
    assert fields["Active"]["type"] == "checkbox"
    # The object's page lists them, with the index state of the indexed one.
    detail = client.get("/setup/objects/Account", headers=HTML).get_data(as_text=True)
    for name in added:
        assert f'href="/setup/objects/Account/fields/{name}"' in detail
    assert "Building" in detail or "Ready" in detail
    # A changed lookup keeps its target, which its form shows but does not change.
    edit = client.get("/setup/objects/Account/fields/Parent").get_data(as_text=True)
    assert '<p class="form-static" id="field-target"><code>Account</code></p>' in edit
    renamed = _post(
        client,
        "/setup/objects/Account/fields/Parent",
        {"label": "Parent account", "type": "lookup", "on_delete": "cascade"},
    )
    assert renamed.status_code == 303, renamed.get_data(as_text=True)
    parent = _fields(tenant, "Account")["Parent"]
    assert (parent["label"], parent["target"], parent["on_delete"]) == (
        "Parent account",
        "Account",
        "cascade",
    )


def test_a_refused_field_keeps_the_input_and_adds_nothing(
    client: Any, tenant: TenantFixture
) -> None:
    _make(tenant, "Account")
    _admin(client, tenant)
    refused = _post(
        client,
        "/setup/objects/Account/fields/new",
        {"label": "Ratio", "type": "number", "precision": "2", "scale": "4"},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert re.search(r'id="field-scale-error">[^<]*scale \(4\) cannot be more than precision', page)
    assert 'value="Ratio"' in page
    assert "Ratio" not in _fields(tenant, "Account")


def test_picklist_values_are_reordered_and_deactivated_without_javascript(
    client: Any, tenant: TenantFixture
) -> None:
    _make(
        tenant,
        "Account",
        {"api_name": "Tier", "type": "picklist", "values": ["Gold", "Silver", "Bronze"]},
    )
    _admin(client, tenant)
    url = "/setup/objects/Account/fields/Tier"
    form = {
        "label": "Tier",
        "type": "picklist",
        "values_key": ["0", "1", "2"],
        "values_0_value": "Gold",
        "values_0_active": "on",
        "values_1_value": "Silver",
        "values_1_active": "on",
        "values_2_value": "Bronze",
    }
    # A move button redraws the form with the value moved, saving nothing.
    moved = _post(client, url, {**form, "_move": "2:up"})
    assert moved.status_code == 200
    order = re.findall(r'name="values_\d+_value" value="([^"]+)"', moved.get_data(as_text=True))
    assert order == ["Gold", "Bronze", "Silver"]
    assert _fields(tenant, "Account")["Tier"]["values"] == ["Gold", "Silver", "Bronze"]
    saved = _post(client, url, {**form, "values_key": ["1", "0", "2"]})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert _fields(tenant, "Account")["Tier"]["values"] == [
        "Silver",
        "Gold",
        {"value": "Bronze", "active": False},
    ]


def test_a_type_change_previews_the_values_that_will_not_convert(
    client: Any, tenant: TenantFixture
) -> None:
    _make(tenant, "Account", {"api_name": "Code", "type": "text", "help_text": "Kept"})
    for name, code in (("A", "12"), ("B", "7.5"), ("C", "twelve"), ("D", "n/a"), ("E", None)):
        create(tenant, "Account", Name=name, Code=code)
    _admin(client, tenant)
    url = "/setup/objects/Account/fields/Code"
    # The form for the new type keeps the common settings and chooses the new type.
    retyped = client.get(url, query_string={"type": "number"}).get_data(as_text=True)
    assert '<option value="number" selected>' in retyped and ">Kept</textarea>" in retyped
    assert "You are changing the type" in retyped
    change = {"label": "Code", "type": "number", "precision": "15", "scale": "2"}
    preview = _post(client, url, change)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "4 records hold a value" in page
    assert "2 records have values that will not convert" in page
    assert "<code>n/a</code>" in page and "<code>twelve</code>" in page
    assert 'name="_misfits" value="2"' in page and 'name="_confirm"' in page
    # Nothing changed yet.
    assert _fields(tenant, "Account")["Code"]["type"] == "text"
    # Back to the form: the form for the new type again, as it was typed.
    back = client.post(url, data={"csrf_token": csrf_token(page), **change, "_back": "1"})
    assert back.status_code == 200 and 'name="precision" value="15"' in back.get_data(as_text=True)
    confirmed = client.post(
        url, data={"csrf_token": csrf_token(page), **change, "_misfits": "2", "_confirm": "yes"}
    )
    assert confirmed.status_code == 303, confirmed.get_data(as_text=True)
    assert _fields(tenant, "Account")["Code"]["type"] == "number"
    records = tenant.api("GET", "/api/v1/objects/Account/records?sort=Name").get_json()["data"]
    assert [row.get("Code") for row in records] == [12, 7.5, None, None, None]


def test_a_type_change_confirmed_for_fewer_losses_is_asked_again(
    client: Any, tenant: TenantFixture
) -> None:
    _make(tenant, "Account", {"api_name": "Code", "type": "text"})
    create(tenant, "Account", Name="A", Code="one")
    create(tenant, "Account", Name="B", Code="two")
    _admin(client, tenant)
    change = {"label": "Code", "type": "number", "_misfits": "1", "_confirm": "yes"}
    again = _post(client, "/setup/objects/Account/fields/Code", change)
    assert again.status_code == 409
    assert "2 records have values that will not convert" in again.get_data(as_text=True)
    assert _fields(tenant, "Account")["Code"]["type"] == "text"


def test_deleting_a_field_says_how_many_records_hold_a_value(
    client: Any, tenant: TenantFixture
) -> None:
    _make(tenant, "Account", {"api_name": "Notes", "type": "text"})
    create(tenant, "Account", Name="A", Notes="keep")
    create(tenant, "Account", Name="B", Notes="also")
    create(tenant, "Account", Name="C")
    _admin(client, tenant)
    url = "/setup/objects/Account/fields/Notes/delete"
    page = client.get(url, headers=HTML).get_data(as_text=True)
    assert "2 records hold a value" in page
    deleted = _post(client, url, {})
    assert deleted.status_code == 303
    # Hidden, as the API's DELETE leaves it: its values stay until purged.
    assert _fields(tenant, "Account")["Notes"]["deleted"] is True
    record = tenant.api("GET", "/api/v1/objects/Account/records?sort=Name").get_json()["data"][0]
    assert "Notes" not in record
    # The name field cannot go: the service says why, on the page.
    refused = _post(client, "/setup/objects/Account/fields/Name/delete", {})
    assert refused.status_code == 422 and "name field" in refused.get_data(as_text=True)


def test_a_user_without_manage_metadata_is_refused(client: Any, tenant: TenantFixture) -> None:
    _make(tenant, "Account")
    permission_set(tenant, "auditor", all_objects={"read": True}, system=["view_audit"])
    member(tenant, "auditor", permission_sets=["auditor"])
    sign_in(client, tenant, f"auditor@{tenant.slug}.test", PASSWORD)
    for url in (
        "/setup/objects",
        "/setup/objects/new",
        "/setup/objects/Account",
        "/setup/objects/Account/fields/new",
        "/setup/objects/Account/fields/Name",
        "/setup/objects/Account/fields/Name/delete",
    ):
        assert client.get(url, headers=HTML).status_code == 403, url
    assert 'href="/setup/objects"' not in client.get("/setup/", headers=HTML).get_data(as_text=True)


def test_every_change_is_a_revision_in_the_audit_trail(client: Any, tenant: TenantFixture) -> None:
    _admin(client, tenant)
    _post(
        client,
        "/setup/objects/new",
        {"label": "Asset", "name_type": "text", "sharing_model": "read"},
    )
    _post(
        client,
        "/setup/objects/Asset",
        {
            "label": "Asset",
            "plural_label": "Assets",
            "sharing_model": "private",
            "name_field": "Name",
        },
    )
    _post(client, "/setup/objects/Asset/fields/new", {"label": "Serial", "type": "text"})
    _post(
        client,
        "/setup/objects/Asset/fields/Serial",
        {"label": "Serial number", "type": "text", "unique": "on"},
    )
    _post(client, "/setup/objects/Asset/fields/Serial/delete", {})
    messages = [
        row["message"] for row in tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]
    ]
    assert messages[:5] == [
        "Delete Asset.Serial",
        "Change Asset.Serial",
        "Add Asset.Serial",
        "Change Asset",
        "Create Asset",
    ]
    audit = tenant.api(
        "GET", "/api/v1/audit", query_string={"action": "metadata.changed"}
    ).get_json()
    logged = [entry["details"]["message"] for entry in audit["data"]]
    assert set(messages[:5]) <= set(logged)
    assert all(entry["actor_id"] == str(tenant.admin_id) for entry in audit["data"][:5])


def test_a_name_field_of_another_type_asks_for_its_settings(
    client: Any, tenant: TenantFixture
) -> None:
    _admin(client, tenant)
    form = client.get("/setup/objects/new", query_string={"name_type": "auto_number"})
    page = form.get_data(as_text=True)
    assert 'name="name_format"' in page and '<option value="auto_number" selected>' in page
    # Without JavaScript, Apply redraws the form for the chosen type and saves nothing.
    redrawn = _post(
        client,
        "/setup/objects/new",
        {"label": "Ticket", "name_type": "auto_number", "_retype": "1"},
    )
    assert redrawn.status_code == 200 and 'name="name_format"' in redrawn.get_data(as_text=True)
    created = _post(
        client,
        "/setup/objects/new",
        {
            "label": "Ticket",
            "name_type": "auto_number",
            "name_format": "T-{0000}",
            "sharing_model": "read",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    name = _fields(tenant, "Ticket")["Name"]
    assert (name["type"], name["format"]) == ("auto_number", "T-{0000}")
    assert create(tenant, "Ticket")
    listed = tenant.api("GET", "/api/v1/objects/Ticket/records").get_json()["data"]
    assert [row["Name"] for row in listed] == ["T-0001"]


def test_the_fields_table_shows_each_index_state_and_why_one_failed(
    client: Any, tenant: TenantFixture
) -> None:
    import sqlalchemy as sa

    _make(
        tenant,
        "Account",
        {"api_name": "Code", "type": "text", "unique": True},
        {"api_name": "Rank", "type": "number", "indexed": True},
        {"api_name": "Notes", "type": "text"},
    )
    database = tenant.app.extensions["trellis"].database
    with database.owner() as connection:
        for field, status, error in (
            ("Code", "failed", "could not create unique index: Key (Code)=(A1) is duplicated."),
            ("Rank", "ready", None),
        ):
            connection.execute(
                sa.text(
                    "UPDATE field_indexes SET status = :status, error = :error "
                    "WHERE tenant_id = :tenant AND field = :field"
                ),
                {"status": status, "error": error, "tenant": tenant.id, "field": field},
            )
    _admin(client, tenant)
    page = client.get("/setup/objects/Account", headers=HTML).get_data(as_text=True)
    rows = {
        name: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for name in ("Code", "Rank", "Notes")
        if f'fields/{name}"' in row
    }
    assert "Failed" in rows["Code"] and "Key (Code)=(A1) is duplicated." in rows["Code"]
    assert "Ready" in rows["Rank"]
    assert "None" in rows["Notes"] and "badge" not in rows["Notes"]


def test_removing_a_picklist_value_records_hold_is_confirmed_first(
    client: Any, tenant: TenantFixture
) -> None:
    _make(tenant, "Account", {"api_name": "Tier", "type": "picklist", "values": ["Gold", "Silver"]})
    create(tenant, "Account", Name="A", Tier="Gold")
    create(tenant, "Account", Name="B", Tier="Silver")
    _admin(client, tenant)
    url = "/setup/objects/Account/fields/Tier"
    # Gold's value cleared: the row is left out, and one record holds it.
    change = {
        "label": "Tier",
        "type": "picklist",
        "values_key": ["0", "1"],
        "values_0_value": "",
        "values_1_value": "Silver",
        "values_1_active": "on",
    }
    preview = _post(client, url, change)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "1 record has a value that will not convert" in page and "<code>Gold</code>" in page
    assert "The type changes" not in page
    assert _fields(tenant, "Account")["Tier"]["values"] == ["Gold", "Silver"]
    confirmed = client.post(
        url, data={"csrf_token": csrf_token(page), **change, "_misfits": "1", "_confirm": "yes"}
    )
    assert confirmed.status_code == 303
    assert _fields(tenant, "Account")["Tier"]["values"] == ["Silver"]


def test_refused_settings_say_why_and_change_nothing(client: Any, tenant: TenantFixture) -> None:
    _make(tenant, "Account")
    _admin(client, tenant)
    url = "/setup/objects/Account"
    refused = _post(
        client,
        url,
        {"label": "Account", "sharing_model": "controlled_by_parent", "name_field": "Name"},
    )
    assert refused.status_code == 422
    assert "Name a required lookup field" in refused.get_data(as_text=True)
    blank = _post(client, url, {"label": "", "sharing_model": "read"})
    assert blank.status_code == 422 and "Give the object a label." in blank.get_data(as_text=True)
    assert _object(tenant, "Account").get("sharing_model", "read_write") == "read_write"
    saved = _post(
        client, url, {"label": "Client", "plural_label": "Clients", "sharing_model": "read"}
    )
    assert saved.status_code == 303
    account = _object(tenant, "Account")
    assert (account["label"], account["plural_label"], account["sharing_model"]) == (
        "Client",
        "Clients",
        "read",
    )
