"""The import screen in a real browser: from the list's Import link, an upsert by a
unique field with a bad row, its dry run, and the job run by a real worker until the
progress bar reaches 100 %; axe on each step, screenshots at 1280 and 375 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from import_worlds import contacts, setup_contacts
from playwright.sync_api import expect

FILE = (
    "Email,Full name,Age,Account\n"
    "ada@example.com,Ada Lovelace,36,Acme\n"  # updates Ada
    "grace@example.com,Grace Hopper,45,Globex\n"  # a new contact
    "kid@example.com,Kid,12,Acme\n"  # refused by the validation rule
)


def test_an_upsert_with_a_dry_run_and_the_progress_bar(
    admin_page: Any, tenant: Any, live_worker: None, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    setup_contacts(tenant)
    created = tenant.api(
        "POST", "/api/v1/objects/Contact/records", json={"Name": "Ada", "Email": "ada@example.com"}
    )
    assert created.status_code == 201
    page.goto("/o/Contact")
    page.get_by_role("link", name="Import").click()
    page.wait_for_url("**/o/Contact/import")
    assert page.get_by_role("heading", level=1).inner_text() == "Import Contacts"
    assert_accessible(page)
    screenshot(page, "import-upload")

    page.get_by_label("CSV file").set_input_files(
        {"name": "contacts.csv", "mimeType": "text/csv", "buffer": FILE.encode()}
    )
    page.get_by_label("New or updated records, matched by a key").check()
    page.get_by_label("Key for matching").select_option(label="Email")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Columns")).to_be_visible()
    expect(page.get_by_label("Field for Full name")).to_have_value("Name")
    expect(page.get_by_label("Find by")).to_have_value("name")
    assert_accessible(page)
    screenshot(page, "import-mapping")

    page.get_by_role("button", name="Dry run").click()
    summary = page.get_by_role("status")
    expect(summary).to_have_text("1 to create, 1 to update, 1 rejected, of 3 rows.")
    expect(page.locator(".import-errors tbody tr")).to_have_count(1)
    expect(page.locator(".import-errors")).to_contain_text("Contacts are adults.")
    assert [row["Name"] for row in contacts(tenant)] == ["Ada"]  # nothing written
    assert_accessible(page)
    screenshot(page, "import-dry-run")

    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=60_000)
    expect(page.get_by_label("Progress")).to_have_attribute("value", "100")
    expect(page.locator("[data-import-count=created]")).to_have_text("1")
    expect(page.locator("[data-import-count=updated]")).to_have_text("1")
    expect(page.locator("[data-import-count=rejected]")).to_have_text("1")
    assert_accessible(page)
    screenshot(page, "import-done")
    page.reload()  # the result is the server's: a reload shows the same
    expect(page.get_by_label("Progress")).to_have_attribute("value", "100")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejected rows").click()
    assert "Contacts are adults." in Path(download.value.path()).read_text(encoding="utf-8")
    names = sorted(row["Name"] for row in contacts(tenant))
    assert names == ["Ada Lovelace", "Grace Hopper"]
