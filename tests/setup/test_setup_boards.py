"""Setup's board editor, the list-view editor's "Board" part: a board saved with its
group-by picklist, card fields and sum, shown again when edited; a field that cannot
group a board is a 422 with its message and nothing saved; removed again by "No
board"."""

from __future__ import annotations

from typing import Any

from board_worlds import build_board_world
from conftest import TenantFixture
from helpers import post_form as post
from screen_worlds import sign_in

HTML = {"Accept": "text/html"}
VIEWS = "/api/v1/objects/Deal/list-views"
NEW = "/setup/list-views/Deal/new"


def board_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "label": "Stages",
        "api_name": "stages",
        "visibility": "shared",
        "order": ["Name", "Amount"],
        "column": ["Name", "Amount"],
        "sort_field": "Name",
        "sort_dir": "asc",
        "board_group_by": "Stage",
        "board_card": ["Amount", "CloseDate"],
        "board_summary": "Amount",
        "save": "1",
    }
    form.update(changes)
    return form


def test_a_board_is_built_edited_and_removed_in_setup(client: Any, tenant: TenantFixture) -> None:
    build_board_world(tenant, deals=2)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    form = client.get(NEW, headers=HTML).get_data(as_text=True)
    assert '<option value="Stage">Stage</option>' in form  # the picklist to group by
    assert '<option value="Amount">Amount</option>' in form.split('name="board_summary"')[1]
    saved = post(client, NEW, board_form())
    assert saved.status_code == 303, saved.get_data(as_text=True)
    board = tenant.api("GET", f"{VIEWS}/stages").get_json()["board"]
    assert board == {
        "group_by": "Stage",
        "card_fields": ["Amount", "CloseDate"],
        "summary_field": "Amount",
    }
    edit = client.get("/setup/list-views/Deal/stages", headers=HTML).get_data(as_text=True)
    assert '<option value="Stage" selected>' in edit
    assert 'href="/o/Deal/board/stages">Open the board</a>' in edit
    removed = post(client, "/setup/list-views/Deal/stages", board_form(board_group_by=""))
    assert removed.status_code == 303, removed.get_data(as_text=True)
    assert tenant.api("GET", f"{VIEWS}/stages").get_json()["board"] is None


def test_a_field_that_cannot_group_a_board_is_refused(client: Any, tenant: TenantFixture) -> None:
    build_board_world(tenant, deals=2)
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    refused = post(client, NEW, board_form(board_group_by="Amount", board_summary="Stage"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page
    assert "Group by a picklist field of Deal." in page
    assert "Sum a number field of Deal, or null for none." in page
    assert tenant.api("GET", f"{VIEWS}/stages").status_code == 404
