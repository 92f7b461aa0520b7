"""Search by name: every word, any case, over what the reader may read (the access gate
in the statement, field-level security on the name), and the /search page."""

from __future__ import annotations

from typing import Any

import pytest
from access_helpers import create
from access_worlds import permission_set
from conftest import TenantFixture
from screen_worlds import ScreensWorld, build_screens_world, reading, sign_in

from trellis.errors import BadRequest
from trellis.records.search import MAX_QUERY_LENGTH, MAX_WORDS, search_names, search_words
from trellis.views.shell import navigation


def found(tenant: TenantFixture, email: str, text: str, per_object: int = 10) -> dict[str, Any]:
    """{object: [names]} as the search finds them for the user, plus ``more`` flags."""
    with reading(tenant, email) as reader:
        groups = search_names(
            reader.connection,
            reader.access,
            reader.schema,
            navigation(reader.schema, reader.access),
            search_words(text),
            per_object,
        )
    return {
        group.object.api_name: ([hit.name for hit in group.hits], group.more) for group in groups
    }


@pytest.fixture()
def world(tenant: TenantFixture) -> ScreensWorld:
    return build_screens_world(tenant)


def test_every_word_must_be_in_the_name_in_any_case(world: ScreensWorld) -> None:
    tenant = world.tenant
    assert found(tenant, tenant.admin_email, "ACME corp") == {
        "Account": (["Acme Corporation"], False)
    }
    assert found(tenant, tenant.admin_email, "acme") == {
        "Account": (["Acme Corporation"], False),
        "Deal": (["Acme expansion", "Acme renewal"], False),
        "Secret": (["Acme takeover"], False),
    }
    assert found(tenant, tenant.admin_email, "ltd globex") == {"Account": (["Globex Ltd"], False)}
    assert found(tenant, tenant.admin_email, "acme ltd") == {}


def test_what_the_reader_may_not_read_is_not_found(world: ScreensWorld) -> None:
    # The administrator's private deal and the Secret object stay out of the rep's search.
    assert found(world.tenant, world.rep_email, "acme") == {
        "Account": (["Acme Corporation"], False),
        "Deal": (["Acme expansion"], False),
    }
    assert found(world.tenant, world.rep_email, "renewal") == {}
    assert found(world.tenant, world.rep_email, "takeover") == {}


def test_a_name_hidden_by_field_level_security_is_not_searched(world: ScreensWorld) -> None:
    tenant = world.tenant
    permission_set(
        tenant,
        "no_account_names",
        objects={"Account": {"read": True}, "Deal": {"read": True}},
        fields={"Account.Name": {"read": False}},
    )
    response = tenant.api(
        "PATCH", f"/api/v1/users/{world.rep.id}", json={"permission_sets": ["no_account_names"]}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert found(tenant, world.rep_email, "acme") == {"Deal": (["Acme expansion"], False)}


def test_deleted_records_are_not_found(world: ScreensWorld) -> None:
    tenant = world.tenant
    assert tenant.api("DELETE", f"/api/v1/objects/Account/records/{world.ids['acme']}").status_code
    assert "Account" not in found(tenant, tenant.admin_email, "acme")


def test_wildcards_are_searched_for_as_themselves(world: ScreensWorld) -> None:
    tenant = world.tenant
    for name in ("100% Organic", "1000 Organic", "Under_score", "Underscore"):
        create(tenant, "Account", Name=name)
    assert found(tenant, tenant.admin_email, "100%") == {"Account": (["100% Organic"], False)}
    assert found(tenant, tenant.admin_email, "under_") == {"Account": (["Under_score"], False)}
    assert found(tenant, tenant.admin_email, "%") == {"Account": (["100% Organic"], False)}


def test_names_starting_with_the_word_come_first_and_more_is_flagged(
    world: ScreensWorld,
) -> None:
    tenant = world.tenant
    for name in ("Big Acme", "Acme Widgets", "Tiny Acme"):
        create(tenant, "Account", Name=name)
    names, more = found(tenant, tenant.admin_email, "acme", per_object=3)["Account"]
    assert names == ["Acme Corporation", "Acme Widgets", "Big Acme"]
    assert more is True
    assert found(tenant, tenant.admin_email, "acme", per_object=4)["Account"][1] is False


def test_search_words_are_distinct_and_bounded() -> None:
    assert search_words("  Acme  acme CORP ") == ["Acme", "CORP"]
    assert search_words("") == []
    with pytest.raises(BadRequest, match="characters"):
        search_words("a" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(BadRequest, match="words"):
        search_words(" ".join(f"w{number}" for number in range(MAX_WORDS + 1)))
    with pytest.raises(BadRequest, match="NUL"):
        search_words("acme\x00")


def test_the_search_page_lists_results_by_object(world: ScreensWorld, client: Any) -> None:
    sign_in(client, world.tenant, world.rep_email, world.password)
    page = client.get("/search", query_string={"q": "acme"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/o/Account/{world.ids["acme"]}"' in html
    assert f'href="/o/Deal/{world.ids["rep_deal"]}"' in html
    assert world.ids["admin_deal"] not in html and "Acme takeover" not in html
    assert "<mark>Acme</mark> Corporation" in html
    assert 'value="acme"' in html  # the search box keeps the words


def test_the_search_page_escapes_names_and_words(world: ScreensWorld, client: Any) -> None:
    create(world.tenant, "Account", Name="<b>Bold</b> & Co")
    sign_in(client, world.tenant, world.tenant.admin_email, world.tenant.admin_password)
    html = client.get("/search", query_string={"q": "<bold>"}).get_data(as_text=True)
    assert "<b>Bold" not in html
    assert "&lt;b&gt;<mark>Bold</mark>&lt;/b&gt; &amp; Co" in html
    assert 'value="&lt;bold&gt;"' in html


def test_the_search_page_without_words_and_with_too_many(world: ScreensWorld, client: Any) -> None:
    assert client.get("/search?q=acme").headers["Location"] == "/login"
    sign_in(client, world.tenant, world.rep_email, world.password)
    empty = client.get("/search")
    assert empty.status_code == 200 and "Find a record by any of its words" in empty.get_data(
        as_text=True
    )
    nothing = client.get("/search?q=zzz").get_data(as_text=True)
    assert "No records found" in nothing
    long = client.get("/search", query_string={"q": "x" * 201}, headers={"Accept": "text/html"})
    assert long.status_code == 400
    assert f"at most {MAX_QUERY_LENGTH} characters" in long.get_data(as_text=True)
    as_json = client.get(
        "/search", query_string={"q": "x" * 201}, headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 400 and as_json.get_json()["code"] == "search_too_long"
