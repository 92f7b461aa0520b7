"""Export and import again in a real browser: the list's CSV, downloaded from the list
screen and uploaded as it is on the import screen, dry run then imported by a real
worker, matches every record and changes nothing (no value, no version); axe on each
step, screenshots at 1280 and 375 px."""

from __future__ import annotations

import csv
from typing import Any

from import_worlds import setup_contacts
from playwright.sync_api import expect

# Values an export must write so that its import reads them back the same: a comma, a
# quote, a blank number and lookup, a false checkbox, a lookup shown by name.
CONTACTS = (
    ("Ada", "ada@example.com", 36, True, "Acme"),
    ("Bob, Jr.", "bob@example.com", 41, False, "Globex"),
    ('Cy "the" Third', None, None, None, None),
)
FIELDS = ("Name", "Email", "Age", "Vip", "Account", "version")


def stored(tenant: Any) -> dict[str, list[Any]]:
    """Each contact's values and version, read through the API."""
    response = tenant.api("GET", "/api/v1/objects/Contact/records?limit=200")
    assert response.status_code == 200, response.get_json()
    return {row["id"]: [row.get(name) for name in FIELDS] for row in response.get_json()["data"]}


def test_an_exported_list_imported_again_changes_nothing(
    admin_page: Any,
    tenant: Any,
    live_worker: None,
    assert_accessible: Any,
    screenshot: Any,
    tmp_path: Any,
) -> None:
    page = admin_page
    accounts = setup_contacts(tenant)
    for name, email, age, vip, account in CONTACTS:
        body = {"Name": name, "Email": email, "Age": age, "Vip": vip}
        body["Account"] = accounts[account] if account else None
        created = tenant.api("POST", "/api/v1/objects/Contact/records", json=body)
        assert created.status_code == 201, created.get_json()
    before = stored(tenant)

    page.goto("/o/Contact")
    expect(page.locator("tbody tr")).to_have_count(3)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    with exported.open(newline="", encoding="utf-8") as opened:
        rows = list(csv.reader(opened))
    assert rows[0][0] == "Id" and sorted(row[0] for row in rows[1:]) == sorted(before)
    assert "Bob, Jr." in {cell for row in rows for cell in row}

    page.get_by_role("link", name="Import").click()
    page.wait_for_url("**/o/Contact/import")
    page.get_by_label("CSV file").set_input_files(str(exported))
    expect(
        page.get_by_label("New records (rows with a record id update that record)")
    ).to_be_checked()
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Columns")).to_be_visible()
    expect(page.get_by_label("Field for Id")).to_have_value("id")
    assert_accessible(page)
    screenshot(page, "reimport-mapping")

    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("status")).to_have_text(
        "0 to create, 3 to update, 0 rejected, of 3 rows."
    )
    assert stored(tenant) == before  # a dry run writes nothing
    assert_accessible(page)
    screenshot(page, "reimport-dry-run")

    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-import-count=created]")).to_have_text("0")
    expect(page.locator("[data-import-count=rejected]")).to_have_text("0")
    assert_accessible(page)
    screenshot(page, "reimport-done")
    assert stored(tenant) == before  # every value and every version as they were
