"""The list screen's mass actions and export as plain forms (no JavaScript): the boxes,
each step's form, the summary, "all matching this view" found again by the server, and
the CSV of the list as shown."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from conftest import TenantFixture
from helpers import csrf_token
from mass_worlds import RULE_MESSAGE, MassWorld, build_mass_world
from screen_worlds import sign_in


@pytest.fixture()
def world(tenant: TenantFixture) -> MassWorld:
    return build_mass_world(tenant, deals=6, undated=(2, 5))


@pytest.fixture()
def rep(app: Any, world: MassWorld) -> Any:
    client = app.test_client()
    sign_in(client, world.tenant, world.rep_email, world.password)
    return client


def post(client: Any, url: str, data: dict[str, Any], status: int = 200) -> str:
    token = csrf_token(client.get("/o/Deal").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, **data})
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    return text


def test_each_row_has_a_box_named_by_its_record_and_the_toolbar_exports(rep: Any) -> None:
    page = rep.get("/o/Deal?sort=Name").get_data(as_text=True)
    assert 'aria-label="Select Deal 01"' in page
    assert 'form="list-mass"' in page
    assert "Select all</label>" in page
    assert 'href="/o/Deal/list/export?sort=Name"' in page
    for action in ("edit", "owner", "delete", "export"):
        assert f'name="action" value="{action}"' in page


def test_a_mass_edit_saves_the_ticked_fields_and_names_each_refused_record(
    rep: Any, world: MassWorld
) -> None:
    ids = [*world.deals.values(), world.admin_deal]
    form = post(rep, "/o/Deal/list/mass", {"action": "edit", "id": ids, "state": "sort=Name"})
    assert "<h1>Edit 7 deals</h1>" in form
    assert 'id="change-Stage"' in form and "Change Stage" in form
    assert 'name="Region"' not in form  # hidden from the rep by field-level security
    summary = post(
        rep,
        "/o/Deal/list/mass/apply",
        {"action": "edit", "id": ids, "change": "Stage", "Stage": "Closed Won", "Amount": "5"},
    )
    assert "4 of 7 deals saved" in summary
    refused = re.findall(
        r'<td class="cell-title"><a [^>]*>([^<]+)</a></td>\s*<td>([^<]+)</td>', summary
    )
    assert sorted(refused) == [
        ("Admin deal", "You may not edit this Deal record."),
        ("Deal 02", RULE_MESSAGE),
        ("Deal 05", RULE_MESSAGE),
    ]
    changed = world.read(world.deals["Deal 01"])
    # Amount was typed but not ticked: left alone.
    assert changed["Stage"] == "Closed Won" and changed["Amount"] == 100


def test_select_all_on_the_page_takes_the_rows_the_page_showed(rep: Any, world: MassWorld) -> None:
    page = rep.get("/o/Deal?sort=Name&limit=10").get_data(as_text=True)
    shown = re.search(r'name="page_ids" value="([^"]*)"', page)
    assert shown is not None
    assert shown.group(1).split() == re.findall(r'name="id" value="([0-9a-f-]{36})"', page)
    data = {"action": "edit", "all_on_page": "1", "page_ids": shown.group(1)}
    form = post(rep, "/o/Deal/list/mass", data)
    assert f"<h1>Edit {len(shown.group(1).split())} deals</h1>" in form


def test_an_edit_with_no_field_ticked_changes_nothing(rep: Any, world: MassWorld) -> None:
    ids = list(world.deals.values())
    text = post(rep, "/o/Deal/list/mass/apply", {"action": "edit", "id": ids}, status=400)
    assert "Choose a field to change." in text
    assert world.read(ids[0])["version"] == 1


def test_all_matching_the_view_is_found_again_through_the_filters_and_the_gate(
    rep: Any, world: MassWorld
) -> None:
    # The form names deals of the filter and a forged id: the server uses the filter.
    state = "Amount__lte=300&sort=Name"
    form = post(
        rep,
        "/o/Deal/list/mass",
        {"action": "delete", "scope": "view", "state": state, "id": world.admin_deal},
    )
    assert "<h1>Delete 3 deals?</h1>" in form
    assert "<li>Deal 01</li>" in form and "Admin deal" not in form
    summary = post(
        rep, "/o/Deal/list/mass/apply", {"action": "delete", "scope": "view", "state": state}
    )
    assert "3 of 3 deals deleted" in summary
    assert world.rep.ids("Deal") == {
        world.deals[name] for name in ("Deal 04", "Deal 05", "Deal 06")
    } | {world.admin_deal}


def test_a_change_of_owner_gives_the_selected_records_away(rep: Any, world: MassWorld) -> None:
    chosen = [world.deals["Deal 01"], world.deals["Deal 02"]]
    form = post(rep, "/o/Deal/list/mass", {"action": "owner", "id": chosen})
    assert "Change the owner of 2 deals" in form and "colleague@" in form
    summary = post(
        rep,
        "/o/Deal/list/mass/apply",
        {"action": "owner", "id": chosen, "owner_id": str(world.colleague.id)},
    )
    assert "2 of 2 deals given to their new owner" in summary
    assert world.read(chosen[0])["owner_id"] == str(world.colleague.id)


def test_a_mass_form_without_a_selection_or_its_token_changes_nothing(
    rep: Any, world: MassWorld
) -> None:
    text = post(rep, "/o/Deal/list/mass", {"action": "delete", "state": "sort=Name"}, status=400)
    assert "Select at least one record." in text
    forged = rep.post("/o/Deal/list/mass/apply", data={"action": "delete", "id": world.admin_deal})
    assert forged.status_code in {400, 403}
    assert world.read(world.admin_deal)["version"] == 1


def test_the_list_exports_as_shown_and_a_selection_as_chosen(rep: Any, world: MassWorld) -> None:
    response = rep.get("/o/Deal/list/export?sort=-Amount&Amount__gte=400")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "Id" and "Region" not in rows[0]
    assert [row[rows[0].index("Deal name")] for row in rows[1:]] == [
        "Deal 06",
        "Deal 05",
        "Deal 04",
    ]
    chosen = [world.deals["Deal 03"], world.admin_deal]
    token = csrf_token(rep.get("/o/Deal").get_data(as_text=True))
    selected = rep.post(
        "/o/Deal/list/mass",
        data={"csrf_token": token, "action": "export", "id": chosen, "state": "sort=Name"},
    )
    rows = list(csv.reader(io.StringIO(selected.get_data(as_text=True))))
    assert sorted(row[0] for row in rows[1:]) == sorted(chosen)
