"""Setup's layout editor: a layout built in the editor (posted as its JSON) is saved
through the metadata service, with a revision and an audit entry; a layout the checks
refuse is answered 422 with its problems and changes nothing; the preview shows a real
record in the unsaved layout."""

from __future__ import annotations

import json
import re
from typing import Any

from access_helpers import PASSWORD, member
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import csrf_token
from layout_worlds import build_world, two_sections
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}


def layout_of(tenant: TenantFixture) -> Any:
    return tenant.api("GET", "/api/v1/meta/objects/Account").get_json().get("layout")


def opened(client: Any) -> dict[str, str]:
    """The editor's form as opened: its CSRF token and the mark of the stored layout."""
    page = client.get("/setup/layouts/Account", headers=HTML).get_data(as_text=True)
    base = re.search(r'name="base" value="([0-9a-f]+)"', page)
    assert base is not None
    return {"csrf_token": csrf_token(page), "base": base.group(1)}


def post_layout(client: Any, layout: Any, form: dict[str, str] | None = None, **extra: str) -> Any:
    text = layout if isinstance(layout, str) else json.dumps(layout)
    return client.post(
        "/setup/layouts/Account",
        data={**(form or opened(client)), "layout": text, **extra},
        headers=HTML,
    )


def revisions(tenant: TenantFixture) -> list[dict[str, Any]]:
    return tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]


def test_the_editor_opens_on_the_generated_layout(client: Any, tenant: TenantFixture) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    index = client.get("/setup/layouts", headers=HTML).get_data(as_text=True)
    assert 'href="/setup/layouts/Account"' in index and "Generated" in index
    page = client.get("/setup/layouts/Account", headers=HTML)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = re.search(r'<textarea[^>]*name="layout"[^>]*>(.*?)</textarea>', html, re.S)
    assert text is not None
    draft = json.loads(text.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert draft["tabs"][0]["sections"][0]["fields"][:2] == ["Name", "Industry"]
    assert "Tab: Details" in html  # the read-only view without the script
    # A page about Account's metadata does not mark the Accounts list in the navigation.
    assert 'href="/o/Account" aria-current="page"' not in html
    assert 'href="/setup/layouts" aria-current="page"' in html


def test_a_layout_with_two_sections_is_saved_with_a_revision_and_audit(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    before = len(revisions(tenant))
    saved = post_layout(client, two_sections(), message="Two sections")
    assert saved.status_code == 303, saved.get_data(as_text=True)
    layout = layout_of(tenant)
    sections = layout["tabs"][0]["sections"]
    assert [section["label"] for section in sections] == ["Basics", "Contact details"]
    assert sections[0]["fields"][1] == {"field": "Industry", "required": True}
    assert sections[1]["columns"] == 1
    assert layout["tabs"][0]["related_lists"][0]["columns"] == ["Name", "Email"]
    history = revisions(tenant)
    assert len(history) == before + 1 and history[0]["message"] == "Two sections"
    audit = tenant.api("GET", "/api/v1/audit").get_json()["data"]
    assert any(
        entry["action"] == "metadata.changed"
        and entry["target_id"] == str(history[0]["revision"])
        and entry["details"]["message"] == "Two sections"
        and entry["actor_id"] == str(tenant.admin_id)
        for entry in audit
    )


def test_an_unknown_or_duplicate_field_is_refused_and_changes_nothing(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    before = len(revisions(tenant))
    unknown = two_sections()
    unknown["tabs"][0]["sections"][1]["fields"].append("Fax")
    refused = post_layout(client, unknown)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "The layout was not saved" in html
    assert "section “Contact details”, field Fax" in html and "No field &#39;Fax&#39;." in html
    duplicate = two_sections()
    duplicate["tabs"][0]["sections"][1]["fields"].append("Name")
    refused = post_layout(client, duplicate)
    assert refused.status_code == 422
    assert "Name is on the layout already." in refused.get_data(as_text=True)
    # The posted draft comes back to work on, not the stored layout.
    assert "Contact details" in refused.get_data(as_text=True)
    assert layout_of(tenant) is None and len(revisions(tenant)) == before


def test_a_related_list_of_a_wrong_column_and_bad_json_are_refused(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    wrong = two_sections()
    wrong["tabs"][0]["related_lists"][0]["columns"] = ["Name", "Salary"]
    refused = post_layout(client, wrong)
    assert refused.status_code == 422
    assert "Contact has no field &#39;Salary&#39;." in refused.get_data(as_text=True)
    broken = post_layout(client, "{not json")
    assert broken.status_code == 422
    assert "The layout is not valid JSON" in broken.get_data(as_text=True)
    assert layout_of(tenant) is None


def test_the_preview_shows_a_real_record_in_the_unsaved_layout(
    client: Any, tenant: TenantFixture
) -> None:
    ids = build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    page = client.get("/setup/layouts/Account", headers=HTML).get_data(as_text=True)
    shown = client.post(
        "/setup/layouts/Account/preview",
        data={
            "csrf_token": csrf_token(page),
            "layout": json.dumps(two_sections()),
            "record": ids["acme"],
            "tab": "details",
        },
        headers={**HTML, "X-Trellis-Fragment": "preview"},
    )
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Acme Corporation" in html and "Contact details" in html and "555-0100" in html
    assert "Ada Lovelace" in html  # the related list, read through the list query
    assert "/edit" not in html  # read only: no edit controls
    assert layout_of(tenant) is None


def test_without_javascript_the_preview_fills_the_editor_page(
    client: Any, tenant: TenantFixture
) -> None:
    ids = build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    shown = client.post(
        "/setup/layouts/Account/preview",
        data={**opened(client), "layout": json.dumps(two_sections()), "record": ids["acme"]},
        headers=HTML,
    )
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "<h1>Account page layout</h1>" in html  # the whole editor page
    assert 'data-preview-record="' + ids["acme"] + '"' in html
    # The draft previewed is kept in the form, to save or change further.
    assert "Contact details" in html.split('name="layout"', 1)[1]
    broken = client.post(
        "/setup/layouts/Account/preview",
        data={**opened(client), "layout": json.dumps({"tabs": []}), "record": ids["acme"]},
        headers={**HTML, "X-Trellis-Fragment": "preview"},
    )
    assert broken.status_code == 200  # the panel says why, the page stays usable
    assert "The layout cannot be previewed as it is" in broken.get_data(as_text=True)


def test_without_the_right_the_editor_is_refused(client: Any, tenant: TenantFixture) -> None:
    build_world(tenant)
    permission_set(tenant, "worker", all_objects={"read": True, "edit": True})
    member(tenant, "worker", permission_sets=["worker"])
    sign_in(client, tenant, f"worker@{tenant.slug}.test", PASSWORD)
    assert client.get("/setup/layouts/Account", headers=HTML).status_code == 403
    token = csrf_token(client.get("/", headers=HTML).get_data(as_text=True))
    refused = client.post(
        "/setup/layouts/Account",
        data={"csrf_token": token, "layout": json.dumps(two_sections())},
        headers=HTML,
    )
    assert refused.status_code == 403
    assert layout_of(tenant) is None


def test_a_save_over_someone_elses_is_caught_then_may_replace_it(
    client: Any, tenant: TenantFixture
) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    form = opened(client)
    theirs = {"tabs": [{"name": "main", "label": "Main", "sections": []}]}
    changed = tenant.api("GET", "/api/v1/meta/objects/Account").get_json()
    changed = {key: changed[key] for key in ("api_name", "label", "plural_label", "fields")}
    saved = tenant.api("PUT", "/api/v1/meta/objects/Account", json={**changed, "layout": theirs})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    refused = post_layout(client, two_sections(), form)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Someone else saved this layout after you opened it." in html
    assert layout_of(tenant)["tabs"][0]["name"] == "main"
    # The page sent back knows their layout: saving again replaces it, knowingly.
    again = {
        "csrf_token": csrf_token(html),
        "base": re.search(r'name="base" value="([0-9a-f]+)"', html).group(1),
    }
    assert post_layout(client, two_sections(), again).status_code == 303
    assert layout_of(tenant)["tabs"][0]["sections"][0]["label"] == "Basics"


def test_the_generated_layout_comes_back_after_asking(client: Any, tenant: TenantFixture) -> None:
    build_world(tenant)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    assert post_layout(client, two_sections()).status_code == 303
    confirm = client.get("/setup/layouts/Account/reset", headers=HTML)
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Use the generated layout for accounts?" in text and "rolled back" in text
    assert layout_of(tenant) is not None
    reset = client.post(
        "/setup/layouts/Account/reset", data={"csrf_token": csrf_token(text)}, headers=HTML
    )
    assert reset.status_code == 303
    assert layout_of(tenant) is None
    assert revisions(tenant)[0]["message"] == "Use the generated page layout of Account"
