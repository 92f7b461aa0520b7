"""The board screen without JavaScript, through the Flask test client: columns with
their cards, their counts and sums on a request of their own (or the board counted),
cards without what field-level security hides, keyset pages of a column, and moves
through the records service (validation rules and stale versions refuse them, and
nothing changes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from board_worlds import build_board_world, refuse_small_wins
from conftest import TenantFixture
from helpers import csrf_token
from list_worlds import ListWorld
from screen_worlds import sign_in

BOARD = "/o/Deal/board/pipeline"


@pytest.fixture()
def world(tenant: TenantFixture) -> ListWorld:
    return build_board_world(tenant, deals=8)


def signed_in(app: Any, world: ListWorld, as_rep: bool = False) -> Any:
    client = app.test_client()
    if as_rep:
        sign_in(client, world.tenant, world.rep_email, world.password)
    else:
        sign_in(client, world.tenant, world.tenant.admin_email, world.tenant.admin_password)
    return client


def columns(page: str) -> list[tuple[str, str, str]]:
    """(label, count, sum) of each column."""
    found = re.findall(
        r'class="board-column-title">([^<]*)</h2>.*?data-column-count>(\d+)<.*?'
        r"data-column-total>([^<]*)<",
        page,
        re.S,
    )
    return [(label, count, total) for label, count, total in found]


def cards(page: str, value: str) -> list[str]:
    part = page.split(f'data-value="{value}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'class="board-card-title"><a href="[^"]+">([^<]*)</a>', part)


COUNTED = [
    ("Prospecting", "2", "12,000.00"),
    ("Negotiation", "2", "6,000.00"),
    ("Closed Won", "2", "8,000.00"),
    ("Closed Lost", "2", "10,000.00"),
    ("None", "0", "0.00"),
]


def test_columns_show_cards_and_their_totals_come_on_their_own(app: Any, world: ListWorld) -> None:
    client = signed_in(app, world)
    response = client.get(BOARD)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    # The page does not count (a scan of every listed record): its script asks for the
    # totals, and without one "Count the columns" shows the board counted.
    assert columns(page) == [] and page.count("data-column-totals hidden") == 5
    assert f'data-totals-url="{BOARD}/totals"' in page
    assert f'href="{BOARD}?count=1" data-totals-link>Count the columns</a>' in page
    counted = client.get(f"{BOARD}?count=1").get_data(as_text=True)
    assert columns(counted) == COUNTED and "data-totals-link" not in counted
    totals = client.get(f"{BOARD}/totals")
    assert totals.status_code == 200 and totals.headers["Content-Type"] == "application/json"
    assert [(c["value"], c["count"], c["total"]) for c in totals.get_json()["columns"]] == [
        ("Prospecting", 2, "12,000.00"),
        ("Negotiation", 2, "6,000.00"),
        ("Closed Won", 2, "8,000.00"),
        ("Closed Lost", 2, "10,000.00"),
        ("", 0, "0.00"),
    ]
    assert cards(page, "Negotiation") == ["Deal 001", "Deal 005"]
    assert "No records" in page.split('data-value=""', 1)[1]
    assert "<dt>Margin</dt>" in page and 'draggable="true"' in page
    # The list screen's toolbar leads here, and the board back to the list.
    listed = signed_in(app, world).get("/o/Deal?view=pipeline").get_data(as_text=True)
    assert f'href="{BOARD}">Board</a>' in listed
    assert 'href="/o/Deal?view=pipeline">List</a>' in page


def test_the_rep_sees_no_hidden_field_and_the_first_board(app: Any, world: ListWorld) -> None:
    client = signed_in(app, world, as_rep=True)
    first = client.get("/o/Deal/board")
    assert first.status_code == 303 and first.headers["Location"].endswith(BOARD)
    page = client.get(BOARD).get_data(as_text=True)
    assert "<dt>Margin</dt>" not in page and "<dt>Amount</dt>" in page
    assert client.get("/o/Deal/board/all").status_code == 404
    assert client.get("/o/Deal/board/all/totals").status_code == 404
    assert client.get("/o/Account/board").status_code == 404


def test_a_column_pages_by_keyset(app: Any, tenant: TenantFixture) -> None:
    world = build_board_world(tenant, deals=90)
    client = signed_in(app, world)
    page = client.get(BOARD).get_data(as_text=True)
    shown = cards(page, "Prospecting")
    assert len(shown) == 20  # of 22, by name
    more = re.search(r'href="([^"]+)" data-more-link', page.split('data-value="Prospecting"')[1])
    assert more is not None
    second = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    rest = re.findall(r'class="board-card-title"><a href="[^"]+">([^<]*)</a>', second)
    assert len(rest) == 2 and not set(rest) & set(shown)
    assert "Back to the board" in second


def move(client: Any, page: str, name: str, value: str, version: str | None = None) -> Any:
    card = page.split(f">{name}</a>", 1)[1].split("</li>", 1)[0]
    record = re.search(r'name="record" value="([^"]+)"', card)
    shown = re.search(r'name="version" value="([^"]+)"', card)
    assert record and shown
    data = {
        "csrf_token": csrf_token(page),
        "record": record.group(1),
        "version": version or shown.group(1),
        "name": name,
        "value": value,
    }
    return client.post(f"{BOARD}/move", data=data)


def test_a_move_is_an_edit_and_a_refused_one_changes_nothing(app: Any, world: ListWorld) -> None:
    refuse_small_wins(world.tenant)
    client = signed_in(app, world)
    page = client.get(BOARD).get_data(as_text=True)
    moved = move(client, page, "Deal 005", "Closed Won")
    assert moved.status_code == 303
    page = client.get(BOARD).get_data(as_text=True)
    assert "Deal 005 moved to Closed Won." in page
    assert cards(page, "Closed Won") == ["Deal 002", "Deal 005", "Deal 006"]
    refused = move(client, page, "Deal 001", "Closed Won")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Deal 001 was not moved. Only deals of 3,000 or more can be won." in page
    assert cards(page, "Negotiation") == ["Deal 001"]
    # A card shown before someone else changed its record is not moved over their change.
    deal_003 = next(deal for deal in world.deals if deal["Name"] == "Deal 003")
    url = f"/api/v1/objects/Deal/records/{deal_003['id']}"
    changed = world.tenant.api("PATCH", url, json={"Amount": 1})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    stale = move(client, page, "Deal 003", "", version="1").headers["Location"]
    assert client.get(stale).status_code == 200
    page = client.get(BOARD).get_data(as_text=True)
    assert cards(page, "Closed Lost") == ["Deal 003", "Deal 007"]
    history = world.tenant.api("GET", "/api/v1/objects/Deal/records?Name=Deal 005").get_json()
    assert history["data"][0]["Stage"] == "Closed Won"


def test_moves_asked_for_as_json(app: Any, world: ListWorld) -> None:
    refuse_small_wins(world.tenant)
    client = signed_in(app, world)
    page = client.get(BOARD).get_data(as_text=True)
    card = page.split(">Deal 001</a>", 1)[1]
    record = re.search(r'name="record" value="([^"]+)"', card).group(1)  # type: ignore[union-attr]
    token = csrf_token(page)
    headers = {"Accept": "application/json"}
    data = {"csrf_token": token, "record": record, "version": "1", "value": "Closed Won"}
    refused = client.post(f"{BOARD}/move", data=data, headers=headers)
    assert refused.status_code == 200, refused.get_data(as_text=True)
    assert refused.get_json() == {
        "ok": False,
        "status": 422,
        "code": "validation_error",
        "error": "Only deals of 3,000 or more can be won.",
    }
    done = client.post(f"{BOARD}/move", data={**data, "value": ""}, headers=headers)
    body = done.get_json()
    assert done.status_code == 200 and body["ok"] is True and body["version"] == 2
    assert body["columns"][1] == {"value": "Negotiation", "count": 1, "total": "5,000.00"}
    assert body["columns"][4] == {"value": "", "count": 1, "total": "1,000.00"}
    stale = client.post(f"{BOARD}/move", data={**data, "value": "Prospecting"}, headers=headers)
    assert stale.get_json()["status"] == 409
    assert "Someone changed this record" in stale.get_json()["error"]
    unknown = client.post(f"{BOARD}/move", data={**data, "value": "Lost"}, headers=headers)
    assert unknown.status_code == 400
