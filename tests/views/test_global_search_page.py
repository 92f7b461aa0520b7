"""The search page and its type-ahead over global search, and ``GET /api/v1/search``:
the same service, the same gate and field-level security, escaped highlights."""

from __future__ import annotations

from typing import Any

import pytest
from access_helpers import create
from conftest import TenantFixture
from screen_worlds import sign_in
from search_worlds import SearchWorld, build_search_world


@pytest.fixture()
def world(tenant: TenantFixture) -> SearchWorld:
    return build_search_world(tenant)


def test_the_page_finds_by_any_field_and_marks_the_words(world: SearchWorld, client: Any) -> None:
    tenant = world.tenant
    record = create(tenant, "Account", Name="Initech", Notes="Met at <b>the</b> Lisbon fair")
    sign_in(client, tenant, world.rep_email, world.password)
    html = client.get("/search", query_string={"q": "lisbon"}).get_data(as_text=True)
    assert f'href="/o/Account/{record}"' in html
    assert "Notes:</span> Met at &lt;b&gt;the&lt;/b&gt; <mark>Lisbon</mark> fair" in html
    assert "<b>the</b>" not in html
    assert 'value="lisbon"' in html


def test_the_page_hides_what_field_level_security_hides(world: SearchWorld, client: Any) -> None:
    tenant = world.tenant
    create(tenant, "Account", Name="Vandelay", Private_notes="Vandelay latex secrets")
    sign_in(client, tenant, world.rep_email, world.password)
    nothing = client.get("/search", query_string={"q": "latex"}).get_data(as_text=True)
    assert "No records found" in nothing and "Vandelay" not in nothing
    named = client.get("/search", query_string={"q": "vandelay"}).get_data(as_text=True)
    assert "<mark>Vandelay</mark>" in named and "latex" not in named


def test_suggestions_are_options_linking_to_records(world: SearchWorld, client: Any) -> None:
    tenant = world.tenant
    record = create(tenant, "Account", Name="Nimbus <Cloud>", Notes="Stratus")
    sign_in(client, tenant, world.rep_email, world.password)
    html = client.get("/search/suggest", query_string={"q": "strat"}).get_data(as_text=True)
    assert f'data-href="/o/Account/{record}"' in html
    assert 'role="option"' in html and "Nimbus &lt;Cloud&gt;" in html
    assert 'data-href="/search?q=strat"' in html
    one_letter = client.get("/search/suggest", query_string={"q": "s"}).get_data(as_text=True)
    assert "/o/Account/" not in one_letter


def test_the_api_is_the_same_search(world: SearchWorld) -> None:
    tenant = world.tenant
    record = create(
        tenant, "Account", Name="Initech", Notes="<i>Lisbon</i> fair", Private_notes="Lisbon"
    )
    response = tenant.api("GET", "/api/v1/search?q=Lisbon", token=world.rep.token)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["words"] == ["lisbon"]
    (group,) = body["data"]
    assert group["object"] == "Account" and group["more"] is False and group["capped"] is False
    (hit,) = group["records"]
    assert hit["id"] == record and hit["name"]["text"] == "Initech"
    assert hit["matches"] == [
        {
            "field": "Notes",
            "label": "Notes",
            "text": "<i>Lisbon</i> fair",
            "html": "&lt;i&gt;<mark>Lisbon</mark>&lt;/i&gt; fair",
            "highlights": [[3, 9]],
        }
    ]
    admin = tenant.api("GET", "/api/v1/search?q=lisbon").get_json()
    fields = [match["field"] for match in admin["data"][0]["records"][0]["matches"]]
    assert sorted(fields) == ["Notes", "Private_notes"]


def test_the_api_refuses_bad_searches(world: SearchWorld) -> None:
    tenant = world.tenant
    long = tenant.api("GET", "/api/v1/search?q=" + "x" * 201)
    assert long.status_code == 400 and long.get_json()["code"] == "search_too_long"
    limit = tenant.api("GET", "/api/v1/search?q=x&limit=0")
    assert limit.status_code == 400 and "limit" in limit.get_json()["errors"]
    assert tenant.api("GET", "/api/v1/search?q=").get_json()["data"] == []
    document = tenant.api("GET", "/api/v1/openapi.json").get_json()
    assert document["paths"]["/search"]["get"]["operationId"] == "search"
