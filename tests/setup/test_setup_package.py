"""Setup's package screen: the export is the API's bytes and is audited; an import is
previewed by a dry run that writes nothing, applied from the same text, and refused with
the problem's position or path, importing nothing."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import yaml
from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from factories import CRM_OPPORTUNITY
from helpers import csrf_token
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}


def revision(tenant: TenantFixture) -> int:
    return int(tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"][0]["revision"])


def exported(tenant: TenantFixture) -> dict[str, Any]:
    response = tenant.api("GET", "/api/v1/meta/package", headers={"Accept": "application/yaml"})
    return dict(yaml.safe_load(response.get_data(as_text=True)))


def changed_package(tenant: TenantFixture) -> str:
    """The workspace's package with Amount relabelled and a new object."""
    package = exported(tenant)
    [opportunity] = [obj for obj in package["objects"] if obj["api_name"] == "Opportunity"]
    amount = next(field for field in opportunity["fields"] if field["api_name"] == "Amount")
    amount["label"] = "Deal size"
    package["objects"].append(
        {
            "api_name": "Invoice",
            "label": "Invoice",
            "fields": [{"api_name": "Name", "type": "text"}],
        }
    )
    return str(yaml.safe_dump(package, sort_keys=False))


def signed_in(client: Any, tenant: TenantFixture) -> str:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    return csrf_token(client.get("/setup/package", headers=HTML).get_data(as_text=True))


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def labels(tenant: TenantFixture) -> dict[str, Any]:
    objects = tenant.api("GET", "/api/v1/meta/objects").get_json()["data"]
    return {
        obj["api_name"]: {field["api_name"]: field.get("label") for field in obj["fields"]}
        for obj in objects
    }


def test_the_export_is_the_apis_package_and_is_audited(client: Any, tenant: TenantFixture) -> None:
    signed_in(client, tenant)
    for format, accept in (("yaml", "application/yaml"), ("json", "application/json")):
        download = client.get(f"/setup/package/export.{format}")
        assert download.status_code == 200
        assert download.mimetype == accept
        assert "attachment" in download.headers["Content-Disposition"]
        api = tenant.api("GET", "/api/v1/meta/package", headers={"Accept": accept})
        assert download.get_data() == api.get_data()
    events = tenant.api("GET", "/api/v1/audit?action=metadata.exported").get_json()["data"]
    assert sum(event["actor_id"] == str(tenant.admin_id) for event in events) == 4


def test_a_preview_writes_nothing_and_apply_imports_the_same_text(
    client: Any, tenant: TenantFixture
) -> None:
    token = signed_in(client, tenant)
    text = changed_package(tenant)
    before = revision(tenant)
    preview = client.post(
        "/setup/package/preview", data={"csrf_token": token, "package": text, "message": "Q3"}
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)[:3000]
    shown = preview.get_data(as_text=True)
    assert "1 to create, 1 to update" in shown
    assert "Amount · label" in shown and 'class="change-new">Deal size<' in shown
    assert "Invoice" in shown and "nothing has been changed" in shown
    assert revision(tenant) == before
    assert "Invoice" not in labels(tenant)
    assert labels(tenant)["Opportunity"]["Amount"] != "Deal size"

    form = {
        "csrf_token": token,
        "package": hidden(shown, "package"),
        "format": hidden(shown, "format"),
        "message": hidden(shown, "message"),
        "previewed": hidden(shown, "previewed"),
    }
    assert form["previewed"] == str(before)
    applied = client.post("/setup/package/apply", data=form)
    assert applied.status_code == 302
    assert labels(tenant)["Opportunity"]["Amount"] == "Deal size"
    assert "Invoice" in labels(tenant)
    assert revision(tenant) > before
    assert "Q3" in tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"][0]["message"]
    assert "was imported" in client.get("/setup/package", headers=HTML).get_data(as_text=True)


def test_a_preview_shows_what_changes_in_permission_sets_and_list_views(
    client: Any, tenant: TenantFixture
) -> None:
    token = signed_in(client, tenant)
    permission_set(tenant, "sales", label="Sales", all_objects={"read": True})
    view = {"api_name": "big", "label": "Big deals", "visibility": "shared", "sort": "-Amount"}
    made = tenant.api("POST", "/api/v1/objects/Opportunity/list-views", json=view)
    assert made.status_code == 201, made.get_data(as_text=True)
    package = exported(tenant)
    [sales] = [entry for entry in package["permission_sets"] if entry["api_name"] == "sales"]
    sales["label"] = "Sales team"
    [big] = [entry for entry in package["list_views"] if entry["api_name"] == "big"]
    big["sort"] = "Amount"
    package["roles"] = [*(package.get("roles") or []), {"api_name": "emea", "label": "EMEA"}]
    preview = client.post(
        "/setup/package/preview",
        data={"csrf_token": token, "package": yaml.safe_dump(package, sort_keys=False)},
    )
    shown = preview.get_data(as_text=True)
    assert preview.status_code == 200, shown[:3000]
    assert "1 to create, 2 to update" in shown
    assert 'class="change-new">Sales team<' in shown and ">label<" in shown
    assert 'class="change-old">-Amount<' in shown and 'class="change-new">Amount<' in shown
    assert "New: a role" in shown
    api = tenant.api("POST", "/api/v1/meta/package?dry_run=true", json=package).get_json()
    diffs = {entry["api_name"]: entry["diff"] for entry in api["access"] + api["list_views"]}
    assert diffs["sales"] == [
        {"change": "object property", "property": "label", "old": "Sales", "new": "Sales team"}
    ]
    assert {"change": "object created"} in diffs["emea"]


def test_apply_refuses_a_preview_the_metadata_has_moved_past(
    client: Any, tenant: TenantFixture
) -> None:
    token = signed_in(client, tenant)
    text = changed_package(tenant)
    preview = client.post("/setup/package/preview", data={"csrf_token": token, "package": text})
    previewed = hidden(preview.get_data(as_text=True), "previewed")
    moved = tenant.api(
        "PATCH", "/api/v1/meta/objects/Opportunity/fields/Segment", json={"label": "Market"}
    )
    assert moved.status_code == 200
    before = revision(tenant)
    stale = client.post(
        "/setup/package/apply",
        data={"csrf_token": token, "package": text, "previewed": previewed},
    )
    assert stale.status_code == 409
    assert "preview the package again" in stale.get_data(as_text=True)
    assert revision(tenant) == before and "Invoice" not in labels(tenant)


def test_an_uploaded_file_is_previewed(client: Any, tenant: TenantFixture) -> None:
    token = signed_in(client, tenant)
    upload = (io.BytesIO(changed_package(tenant).encode()), "package.yaml")
    preview = client.post(
        "/setup/package/preview",
        data={"csrf_token": token, "file": upload},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert "1 to create, 1 to update" in preview.get_data(as_text=True)


def test_malformed_and_invalid_packages_show_where_and_import_nothing(
    client: Any, tenant: TenantFixture
) -> None:
    token = signed_in(client, tenant)
    before = revision(tenant)
    malformed = client.post(
        "/setup/package/preview",
        data={"csrf_token": token, "package": "trellis_package: 1\nobjects: [\n  - {bad"},
    )
    assert malformed.status_code == 400
    page = malformed.get_data(as_text=True)
    assert "Nothing was imported" in page and re.search(r"line \d+, column \d+", page)
    # The text stays in the form, to be fixed.
    assert "objects: [" in html.unescape(page)

    invalid = yaml.safe_dump(
        {
            "trellis_package": 1,
            "objects": [
                {
                    "api_name": "Broken",
                    "label": "Broken",
                    "fields": [{"api_name": "X", "type": "nope"}],
                }
            ],
        }
    )
    for path in ("/setup/package/preview", "/setup/package/apply"):
        refused = client.post(path, data={"csrf_token": token, "package": invalid})
        assert refused.status_code == 422, refused.get_data(as_text=True)[:2000]
        # The API's own message and path, as POST /api/v1/meta/package gives them.
        shown = html.unescape(refused.get_data(as_text=True))
        assert "Broken.fields.X.type</code> Unknown field type 'nope'" in shown
    json_error = client.post(
        "/setup/package/apply", data={"csrf_token": token, "package": '{"trellis_package": 1,'}
    )
    assert json_error.status_code == 400 and "not valid JSON" in json_error.get_data(as_text=True)
    assert revision(tenant) == before
    assert "Broken" not in labels(tenant)


def test_import_needs_the_import_right_and_the_screen_manage_metadata(
    client: Any, tenant: TenantFixture
) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=CRM_OPPORTUNITY).status_code == 201
    permission_set(tenant, "builder", all_objects={"read": True}, system=["manage_metadata"])
    member(tenant, "builder", permission_sets=["builder"])
    sign_in(client, tenant, f"builder@{tenant.slug}.test", PASSWORD)
    screen = client.get("/setup/package", headers=HTML)
    assert screen.status_code == 200
    assert "Preview import" not in screen.get_data(as_text=True)
    token = csrf_token(screen.get_data(as_text=True))
    text = changed_package(tenant)
    for path in ("/setup/package/preview", "/setup/package/apply"):
        assert client.post(path, data={"csrf_token": token, "package": text}).status_code == 403
    assert "Invoice" not in labels(tenant)

    permission_set(tenant, "worker", all_objects={"read": True}, system=["view_audit"])
    member(tenant, "worker", permission_sets=["worker"])
    other = tenant.app.test_client()
    sign_in(other, tenant, f"worker@{tenant.slug}.test", PASSWORD)
    assert other.get("/setup/package", headers=HTML).status_code == 403
    assert other.get("/setup/package/export.yaml").status_code == 403
