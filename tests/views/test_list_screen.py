"""The list screen without JavaScript, through the Flask test client: what a page shows
(the columns, lookups by name, field-level security), its filters, sort and keyset pages
as links and GET forms, the count, and what its forms save."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import TenantFixture
from helpers import csrf_token
from list_worlds import ListWorld, build_list_world
from screen_worlds import sign_in

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"})


class Page(HTMLParser):
    """The parts of a list page the tests read: headers, rows' cell texts, links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.links: list[tuple[str, str, dict[str, str]]] = []
        self._cell: list[str] | None = None
        self._link: tuple[dict[str, str], list[str]] | None = None
        self._in_body = False
        self._skip = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag in VOID:
            return
        classes = found.get("class", "").split()
        if self._skip or {"cell-label", "visually-hidden", "list-select"} & set(classes):
            # Text no one sees on a laptop, and the rows' selection boxes (tested in
            # test_list_mass): left out, to the closing tag.
            self._skip += 1
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in {"th", "td"}:
            self._cell = []
        elif tag == "a":
            self._link = (found, [])

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip -= 1
            return
        if tag in {"th", "td"} and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            (self.rows[-1] if tag == "td" and self.rows else self.headers).append(text)
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "a" and self._link is not None:
            found, text = self._link
            self.links.append((" ".join("".join(text).split()), found.get("href", ""), found))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        if self._link is not None:
            self._link[1].append(data)

    def link(self, text: str | None = None, **attributes: str) -> str:
        for found_text, href, found in self.links:
            if (text is None or found_text == text) and all(
                found.get(name) == value for name, value in attributes.items()
            ):
                return html.unescape(href)
        raise AssertionError(f"no link {text!r} {attributes}")

    def column(self, header: str) -> list[str]:
        index = self.headers.index(header)
        return [row[index] for row in self.rows]


@pytest.fixture()
def world(tenant: TenantFixture) -> ListWorld:
    return build_list_world(tenant, deals=120)


@pytest.fixture()
def rep(app: Any, world: ListWorld) -> Any:
    client = app.test_client()
    sign_in(client, world.tenant, world.rep_email, world.password)
    return client


def get(client: Any, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return Page(response.get_data(as_text=True))


def amounts(page: Page) -> list[int]:
    return [int(text.replace(",", "").split(".")[0]) for text in page.column("Amount")]


def test_the_list_shows_the_view_with_lookups_by_name(rep: Any, world: ListWorld) -> None:
    page = get(rep, "/o/Deal?count=1")
    assert page.headers == ["Deal name", "Amount", "Stage", "Close date", "Account"]
    assert len(page.rows) == 50
    names = page.column("Deal name")
    deal = next(d for d in world.deals if d["Name"] == names[0])
    assert page.link(names[0]) == f"/o/Deal/{deal['id']}"
    # Acme is the rep's account, Globex is not theirs: a restricted record, no link.
    accounts = set(page.column("Account"))
    assert accounts == {"Acme Corporation", "Restricted record"}
    assert page.link("Acme Corporation") == f"/o/Account/{world.acme}"
    assert all(href != f"/o/Account/{world.globex}" for _, href, _ in page.links)
    text = rep.get("/o/Deal?count=1").get_data(as_text=True)
    assert "1–50 of 120" in " ".join(html.unescape(text).split())
    assert "<h1>Deals</h1>" in text
    assert 'href="/o/Deal/new"' in text


def test_a_field_the_user_may_not_read_is_absent_everywhere(
    rep: Any, world: ListWorld, tenant: TenantFixture
) -> None:
    text = rep.get("/o/Deal?panel=filters").get_data(as_text=True)
    assert "Margin" not in text and "12.5" not in text
    response = rep.get("/o/Deal?Margin__gte=1&sort=-Margin")
    assert response.status_code == 400
    shown = html.unescape(response.get_data(as_text=True))
    assert "Deal has no field 'Margin' to filter on." in shown
    assert "Cannot sort by 'Margin'." in shown
    assert len(Page(shown).rows) == 50, "the rest of the page still shows"
    # The administrator reads it (as a percent).
    admin = tenant.app.test_client()
    sign_in(admin, tenant, tenant.admin_email, tenant.admin_password)
    assert "12.5%" in get(admin, "/o/Deal").column("Margin")


def test_sorting_by_a_header_and_paging_both_ways(rep: Any) -> None:
    first = get(rep, "/o/Deal")
    by_amount = first.link("Amount")
    assert parse_qs(urlsplit(by_amount).query)["sort"] == ["Amount"]
    ascending = get(rep, by_amount)
    assert amounts(ascending) == [1000 * n for n in range(1, 51)]
    descending = get(rep, ascending.link("Amount"))
    assert amounts(descending)[:2] == [120000, 119000]
    second = get(rep, descending.link("Next"))
    assert amounts(second) == [1000 * n for n in range(70, 20, -1)]
    third = get(rep, second.link("Next"))
    assert amounts(third) == [1000 * n for n in range(20, 0, -1)]
    assert "Next" not in [text for text, _, _ in third.links]
    back = get(rep, third.link("Previous"))
    assert amounts(back) == amounts(second)
    again = get(rep, back.link("Previous"))
    assert amounts(again) == amounts(descending)
    assert "Previous" not in [text for text, _, _ in again.links]


def test_a_sort_link_keeps_the_search_filters_and_page_size_from_the_first_page(
    rep: Any,
) -> None:
    narrowed = get(rep, "/o/Deal?q=Deal&Amount__gte=2000&limit=25&sort=-Amount")
    later = get(rep, narrowed.link("Next"))
    link = parse_qs(urlsplit(later.link("Amount")).query)
    assert link == {
        "q": ["Deal"],
        "Amount__gte": ["2000"],
        "sort": ["Amount"],
        "limit": ["25"],
    }
    assert amounts(get(rep, later.link("Amount")))[:2] == [2000, 3000]


def test_the_filter_panel_redirects_to_the_filters_it_names(rep: Any) -> None:
    response = rep.get(
        "/o/Deal",
        query_string={
            "apply": "1",
            "q": "",
            "f0.field": "Name",
            "f0.op": "contains",
            "f0.value": "7",
            "f1.field": "Amount",
            "f1.op": "gte",
            "f1.value": "50000",
            "f2.field": "Stage",
            "f2.op": "",
            "f2.value": "Closed Won",
            "f3.field": "CloseDate",
            "f3.op": "notnull",
            "sort_field": "Amount",
            "sort_dir": "asc",
            "limit": "25",
        },
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert parse_qs(urlsplit(location).query) == {
        "Name__contains": ["7"],
        "Amount__gte": ["50000"],
        "CloseDate__isnull": ["false"],
        "sort": ["Amount"],
        "limit": ["25"],
    }
    page = get(rep, location)
    assert all("7" in name for name in page.column("Deal name"))
    assert amounts(page) == sorted(amounts(page)) and min(amounts(page)) >= 50000
    assert amounts(page)[:3] == [57000, 67000, 70000]


def test_a_wrong_filter_is_said_and_left_out(rep: Any) -> None:
    response = rep.get("/o/Deal?Amount__gte=lots&Stage=Nope&Name__contains=Deal")
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "Amount: Enter a number, such as 12.5 or -3 (got 'lots')." in text
    assert "Stage: 'Nope' is not allowed." in text
    assert len(Page(text).rows) == 50


def test_search_looks_for_every_word_in_the_name(rep: Any) -> None:
    page = get(rep, "/o/Deal?q=deal+11")
    assert sorted(page.column("Deal name")) == [
        "Deal 011",
        "Deal 110",
        "Deal 111",
        "Deal 112",
        "Deal 113",
        "Deal 114",
        "Deal 115",
        "Deal 116",
        "Deal 117",
        "Deal 118",
        "Deal 119",
    ]
    fragment = rep.get("/o/Deal/list/rows?q=deal+011")
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert Page(fragment.get_data(as_text=True)).column("Deal name") == ["Deal 011"]
    empty = rep.get("/o/Deal?q=nothing+like+it").get_data(as_text=True)
    assert "No deals match these filters" in html.unescape(empty)


def test_the_count_comes_separately(rep: Any) -> None:
    assert rep.get("/o/Deal/list/count?Amount__gte=100000").get_json() == {"total": 21}
    assert rep.get("/o/Deal/list/count?Amount__gte=lots").get_json() == {"total": None}
    assert rep.get("/o/Deal/list/count?view=mine").get_json() == {"total": 0}


def test_columns_are_chosen_ordered_and_reset(rep: Any) -> None:
    token = csrf_token(rep.get("/o/Deal").get_data(as_text=True))
    order = ["Name", "Amount", "Stage", "CloseDate", "Account", "Notes", "created_at"]
    form = {"csrf_token": token, "view": "all", "state": "sort=Amount", "order": order}
    moved = rep.post(
        "/o/Deal/list/columns",
        data={**form, "column": ["Name", "Stage", "Amount", "Notes"], "move": "Stage:up"},
    )
    assert moved.status_code == 303
    assert moved.headers["Location"] == "/o/Deal?sort=Amount&panel=columns"
    assert get(rep, "/o/Deal").headers == ["Deal name", "Stage", "Amount", "Notes"]
    refused = rep.post("/o/Deal/list/columns", data={**form, "column": []})
    assert refused.status_code == 400
    assert "Choose at least one column." in html.unescape(refused.get_data(as_text=True))
    widths = rep.post(
        "/o/Deal/list/columns",
        json={"view": "all", "columns": [{"field": "Name", "width": 300}, {"field": "Amount"}]},
        headers={"X-CSRF-Token": token},
    )
    assert widths.status_code == 204
    text = rep.get("/o/Deal").get_data(as_text=True)
    assert re.search(r'<col class="col-w-300" data-column="Name">', text)
    assert rep.post("/o/Deal/list/columns", data={**form, "reset": "1"}).status_code == 303
    assert get(rep, "/o/Deal").headers[-1] == "Account"
    assert rep.post("/o/Deal/list/columns", data={"view": "all"}).status_code == 403  # no CSRF


def test_save_as_makes_a_private_view_of_what_the_screen_shows(rep: Any, world: ListWorld) -> None:
    token = csrf_token(rep.get("/o/Deal").get_data(as_text=True))
    state = "Amount__gte=100000&sort=-Amount"
    saved = rep.post(
        "/o/Deal/list/views",
        data={"csrf_token": token, "state": state, "action": "save_as", "label": "Big deals"},
    )
    assert saved.status_code == 303 and saved.headers["Location"] == "/o/Deal?view=big_deals"
    view = world.rep.api("GET", "/api/v1/objects/Deal/list-views/big_deals").get_json()
    assert view["visibility"] == "private"
    assert view["filters"] == [{"field": "Amount", "operator": "gte", "value": "100000"}]
    assert view["sort"] == "-Amount"
    page = get(rep, "/o/Deal?view=big_deals")
    assert amounts(page)[0] == 120000 and len(page.rows) == 21
    assert page.link("Big deals") == "/o/Deal?view=big_deals"
    again = rep.post(
        "/o/Deal/list/views",
        data={"csrf_token": token, "state": state, "action": "save_as", "label": " "},
    )
    assert again.status_code == 400
    assert "Name the view in 1 to 80 characters." in html.unescape(again.get_data(as_text=True))
    # The rep may not change the shared "All Deals": Save is not offered, and refused.
    refused = rep.post("/o/Deal/list/views", data={"csrf_token": token, "action": "save"})
    assert refused.status_code == 400
    deleted = rep.post(
        "/o/Deal/list/views",
        data={"csrf_token": token, "state": "view=big_deals", "action": "delete"},
    )
    assert deleted.status_code == 303
    assert world.rep.api("GET", "/api/v1/objects/Deal/list-views/big_deals").status_code == 404


def test_unknown_views_objects_and_rights(rep: Any, world: ListWorld) -> None:
    assert rep.get("/o/Deal?view=nothing").status_code == 404
    assert rep.get("/o/Nothing").status_code == 404
    reader = world.tenant.api(
        "POST",
        "/api/v1/meta/permission-sets",
        json={
            "api_name": "readers",
            "label": "readers",
            "objects": {"Deal": {"read": True}, "Account": {"read": True}},
        },
    )
    assert reader.status_code == 201
    from access_helpers import PASSWORD, member

    member(world.tenant, "reader", permission_sets=["readers"])
    client = world.tenant.app.test_client()
    sign_in(client, world.tenant, f"reader@{world.tenant.slug}.test", PASSWORD)
    text = client.get("/o/Deal").get_data(as_text=True)
    assert 'href="/o/Deal/new"' not in text
    assert "Margin" in text  # readers may read every field
    assert client.get("/o/Secret").status_code == 404


def test_my_view_lists_what_the_reader_owns(rep: Any, world: ListWorld) -> None:
    created = world.rep.api("POST", "/api/v1/objects/Deal/records", json={"Name": "Rep's own"})
    assert created.status_code == 201
    response = rep.get("/o/Deal?view=mine&count=1")
    text = html.unescape(response.get_data(as_text=True))
    assert Page(text).column("Deal name") == ["Rep's own"]
    assert "Owner is me" in text and "1–1 of 1" in " ".join(text.split())


def test_a_stale_page_link_shows_the_first_page(rep: Any) -> None:
    response = rep.get("/o/Deal?sort=Amount&cursor=not-a-cursor&start=51")
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "That page link is out of date; here is the first page." in text
    page = Page(text)
    assert amounts(page)[:2] == [1000, 2000]
    assert rep.get("/o/Deal?limit=7").status_code == 400


def test_an_administrator_saves_the_shared_view_for_everyone(
    tenant: TenantFixture, world: ListWorld, rep: Any
) -> None:
    admin = tenant.app.test_client()
    sign_in(admin, tenant, tenant.admin_email, tenant.admin_password)
    token = csrf_token(admin.get("/o/Deal").get_data(as_text=True))
    saved = admin.post(
        "/o/Deal/list/views",
        data={"csrf_token": token, "state": "sort=-Amount", "action": "save"},
    )
    assert saved.status_code == 303 and saved.headers["Location"] == "/o/Deal"
    assert amounts(get(rep, "/o/Deal"))[0] == 120000, "everyone's All Deals is sorted so"
    shared = admin.post(
        "/o/Deal/list/views",
        data={
            "csrf_token": token,
            "state": "Stage=Closed+Won",
            "action": "save_as",
            "label": "Won",
            "visibility": "shared",
        },
    )
    assert shared.status_code == 303
    assert set(get(rep, "/o/Deal?view=won").column("Stage")) == {"Closed Won"}


def test_a_long_value_is_cut_short_with_the_whole_of_it_as_its_title(
    rep: Any, world: ListWorld
) -> None:
    long_name = "Deal " + "very " * 30 + "long"
    created = world.rep.api("POST", "/api/v1/objects/Deal/records", json={"Name": long_name})
    assert created.status_code == 201
    text = rep.get("/o/Deal?q=very").get_data(as_text=True)
    assert f'title="{long_name}"' in text
    assert re.search(
        r'<td class="list-cell cell-record" title="[^"]+"><span class="cell-label"', text
    )


def test_panels_come_when_opened_and_in_place_when_the_url_opens_one(rep: Any) -> None:
    closed = rep.get("/o/Deal?q=acme").get_data(as_text=True)
    assert "data-filter-form" not in closed and "data-column-chooser" not in closed
    # Without JavaScript each closed panel links to the page with it open.
    assert 'href="/o/Deal?q=acme&amp;panel=filters"' in closed
    assert 'data-url="/o/Deal/list/panel/columns"' in closed
    opened = rep.get("/o/Deal?q=acme&panel=columns").get_data(as_text=True)
    assert "data-column-chooser" in opened and "data-filter-form" not in opened
    # The script fetches a panel's body for the address's state.
    body = rep.get("/o/Deal/list/panel/filters?q=acme")
    assert body.status_code == 200
    fragment = body.get_data(as_text=True)
    assert "data-filter-form" in fragment and 'name="q" value="acme"' in fragment
    assert 'aria-label="Objects"' not in fragment and "<details" not in fragment
    assert "Margin" not in fragment  # field-level security, as in the page
    assert rep.get("/o/Deal/list/panel/nothing").status_code == 404
    assert rep.get("/o/Nothing/list/panel/filters").status_code == 404


def test_a_wrong_filter_opens_the_filter_panel_with_its_error(rep: Any) -> None:
    text = rep.get("/o/Deal?Amount__gte=lots").get_data(as_text=True)
    assert "data-filter-form" in text
    assert re.search(r'data-panel="filters" open', text)
