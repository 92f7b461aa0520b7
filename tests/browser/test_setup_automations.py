"""Setup → Automations in a real browser: an automation built with two actions, a refused
save fixed, the actions reordered with their buttons and by dragging, the list; then the
run log filtered, a dead run's detail and its replay. Accessibility and screenshots of
each screen at both widths."""

from __future__ import annotations

from typing import Any

from conftest import TenantFixture
from factories import add_automation, runs
from helpers import wait_for
from playwright.sync_api import expect


def action_titles(page: Any) -> list[str]:
    return [
        title.split(",")[0].strip()
        for title in page.locator("[data-action-item] h3").all_inner_texts()
    ]


def add_action(page: Any, label: str) -> None:
    page.get_by_label("Add an action").select_option(label=label)
    page.get_by_role("button", name="Add action").click()


def test_an_automation_with_two_actions_is_built_reordered_and_saved(
    admin_page: Any, crm: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    page = admin_page
    page.goto("/setup/automations")
    expect(page.get_by_text("No automations yet")).to_be_visible()
    page.get_by_role("link", name="New automation").first.click()
    page.get_by_label("Label").fill("Welcome new deals")
    page.get_by_label("API name").fill("welcome")
    page.get_by_role("combobox", name="Object").select_option("Opportunity")
    page.get_by_label("Trigger").select_option("created")
    page.get_by_role("textbox", name="Condition").fill("Amount > 100")
    add_action(page, "Update fields")
    page.get_by_label("Values field 1").fill("Segment")
    page.get_by_label("Values value 1").fill('"Welcomed"')
    add_action(page, "Create record")
    assert action_titles(page) == ["Update fields", "Create record"]
    page.locator("#control-actions-1-object").fill("Task")
    page.get_by_label("Values field 1").nth(1).fill("Subject")
    page.get_by_label("Values value 1").nth(1).fill("Nmae")
    page.get_by_role("button", name="Save automation").click()

    # The unknown field name is shown at the second action's value, and nothing is saved.
    summary = page.get_by_role("alert").filter(has_text="The automation was not saved")
    expect(summary).to_be_focused()
    second = page.locator("#action-1")
    expect(second.locator(".field-error")).to_contain_text("Subject:")
    assert crm.api("GET", "/api/v1/meta/automations/welcome").status_code == 404
    assert_accessible(page)
    screenshot(page, "setup-automation-errors")

    page.get_by_label("Values value 1").nth(1).fill('"Call " & Name')
    page.get_by_role("button", name="Move action 2 up").click()
    assert action_titles(page) == ["Create record", "Update fields"]
    assert page.locator("#control-actions-0-object").input_value() == "Task"
    assert_accessible(page)
    screenshot(page, "setup-automation-builder")
    page.get_by_role("button", name="Save automation").click()
    # The flash; the formula editors have live regions of their own.
    expect(page.get_by_role("status").filter(has_text="Saved automation")).to_contain_text(
        "Saved automation Welcome new deals"
    )
    saved = crm.api("GET", "/api/v1/meta/automations/welcome").get_json()
    assert [a["type"] for a in saved["actions"]] == ["create_record", "update_fields"]

    # Dragging an action by its number puts it in order too, once the formula editors
    # have checked their formulas (what they show moves the actions down the page).
    expect(page.locator("#setting-condition-check")).to_contain_text("Valid formula")
    # Both in view first: scrolling between the press and the move would start the drag
    # on whatever came under the pointer.
    page.locator("#action-0").evaluate("item => item.scrollIntoView({block: 'start'})")
    page.locator("#action-1 .action-number").drag_to(page.locator("#action-0 .action-header"))
    assert action_titles(page) == ["Update fields", "Create record"]
    page.get_by_role("button", name="Save automation").click()
    expect(page.get_by_role("status").filter(has_text="Saved automation")).to_be_visible()
    saved = crm.api("GET", "/api/v1/meta/automations/welcome").get_json()
    assert [a["type"] for a in saved["actions"]] == ["update_fields", "create_record"]

    page.get_by_role("link", name="Automations").first.click()
    row = page.get_by_role("row").filter(has_text="Welcome new deals")
    expect(row).to_contain_text("Record created")
    expect(row).to_contain_text("Never")
    assert_accessible(page)
    screenshot(page, "setup-automations-list")


def test_the_run_log_is_filtered_and_a_dead_run_replayed(
    admin_page: Any, crm: TenantFixture, assert_accessible: Any, screenshot: Any
) -> None:
    add_automation(
        crm,
        {
            "api_name": "segment_task",
            "label": "Task named for the segment",
            "object": "Opportunity",
            "trigger": "created",
            "timing": "after_save",
            "actions": [
                {"type": "update_fields", "values": {"Touches": "1"}},
                {"type": "create_record", "object": "Task", "values": {"Subject": "Segment"}},
            ],
        },
    )
    crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "ok", "Segment": "SMB"})
    deal = crm.api("POST", "/api/v1/objects/Opportunity/records", json={"Name": "blank"})
    wait_for(lambda: runs(crm, status="dead") and runs(crm, status="succeeded"))
    [dead] = runs(crm, status="dead")
    page = admin_page
    page.goto("/setup/automation-runs")
    expect(page.locator(".runs-table tbody tr")).to_have_count(2)
    page.get_by_label("Status").select_option("dead")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator(".runs-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Dead")
    assert_accessible(page)
    screenshot(page, "setup-automation-runs")

    rows.first.get_by_role("link", name=f"#{dead['id']}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Run #{dead['id']}")
    expect(page.get_by_text("Failed here")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "setup-automation-run")

    crm.api(
        "PATCH",
        f"/api/v1/objects/Opportunity/records/{deal.get_json()['id']}",
        json={"Segment": "Enterprise"},
    )
    page.get_by_role("link", name="Replay run").click()
    expect(page.get_by_text("not repeated")).to_be_visible()
    page.get_by_role("button", name="Replay run").click()
    expect(page.get_by_role("status").filter(has_text="queued again")).to_be_visible()
    # Queued again (the browser's server nudges its own workers; the Flask-level test
    # watches a replay run to success on the test worker).
    replayed = crm.api("GET", f"/api/v1/automation-runs/{dead['id']}").get_json()
    assert replayed["status"] in {"queued", "running", "succeeded"} and replayed["attempts"] <= 1
