"""Global search (trellis.records.global_search): words in any searchable field, ranked,
through the access gate and field-level security, highlighted safely, and kept current
by every write and metadata change in the same transaction."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from access_helpers import create
from conftest import TenantFixture
from screen_worlds import reading
from search_worlds import SearchWorld, build_search_world, found, names

from trellis.errors import BadRequest
from trellis.records.global_search import query_words, suggest
from trellis.records.search_rarity import rarest
from trellis.records.search_snippets import as_html, snippet, word_starts
from trellis.views.shell import navigation


@pytest.fixture()
def world(tenant: TenantFixture) -> SearchWorld:
    return build_search_world(tenant)


def _matches(groups: Any, api_name: str = "Account") -> dict[str, dict[str, str]]:
    """{record name: {field: snippet html}} of one object's hits."""
    group = next(group for group in groups if group.object.api_name == api_name)
    return {
        hit.name.text: {match.api_name: as_html(match.snippet) for match in hit.matches}
        for hit in group.hits
    }


def _term_rows(tenant: TenantFixture, field: str) -> int:
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM search_terms WHERE field = :field"),
                {"field": field},
            ).scalar_one()
        )


def _words_out_of_step(tenant: TenantFixture) -> list[Any]:
    """Rows of search_words without their lexeme in search_terms, or the reverse."""
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        return connection.execute(
            sa.text(
                "(SELECT object_id, word, record_id, field FROM search_words "
                "EXCEPT SELECT object_id, word, record_id, field FROM search_terms, "
                "unnest(tsvector_to_array(terms)) AS word) UNION ALL "
                "(SELECT object_id, word, record_id, field FROM search_terms, "
                "unnest(tsvector_to_array(terms)) AS word EXCEPT "
                "SELECT object_id, word, record_id, field FROM search_words)"
            )
        ).all()


def test_words_in_any_searchable_field_find_the_record(world: SearchWorld) -> None:
    tenant = world.tenant
    create(
        tenant,
        "Account",
        Name="Initech",
        Notes="Long-standing customer.\nMet at the Lisbon fair.",
        Body="<p>Prefers <b>quarterly</b></p><p>invoices</p>",
        Email="ada@lovelace.example",
        Website="https://initech.example/contact",
        Tier="gold",
        Score=42,
    )
    admin = tenant.admin_email
    assert names(found(tenant, admin, "lisbon")) == {"Account": ["Initech"]}
    assert _matches(found(tenant, admin, "lisbon"))["Initech"] == {
        "Notes": "Long-standing customer. Met at the <mark>Lisbon</mark> fair."
    }
    # Rich text is searched and shown as its text, without tags, words split at tags.
    assert _matches(found(tenant, admin, "quarterly invoices"))["Initech"] == {
        "Body": "Prefers <mark>quarterly</mark> <mark>invoices</mark>"
    }
    # Addresses are found by their parts; picklists by their labels, not their values.
    assert names(found(tenant, admin, "lovelace")) == {"Account": ["Initech"]}
    assert names(found(tenant, admin, "contact")) == {"Account": ["Initech"]}
    assert _matches(found(tenant, admin, "gold"))["Initech"] == {"Tier": "<mark>Gold</mark> tier"}
    # Numbers are not searched; words are matched as prefixes, across fields.
    assert found(tenant, admin, "42") == []
    assert names(found(tenant, admin, "init lisb gold")) == {"Account": ["Initech"]}
    assert found(tenant, admin, "initech madrid") == []


def test_name_matches_rank_first_and_groups_order_by_best_match(world: SearchWorld) -> None:
    tenant = world.tenant
    create(tenant, "Account", Name="Harbour services", Notes="General contractor")
    create(tenant, "Account", Name="Blue Bay", Notes="Near the harbour")
    create(tenant, "Account", Name="Harbour Harbour", Notes="Harbour front harbour")
    create(tenant, "Deal", Name="Dock extension", Notes="Harbour")
    groups = found(tenant, tenant.admin_email, "harbour")
    assert names(groups) == {
        "Account": ["Harbour Harbour", "Harbour services", "Blue Bay"],
        "Deal": ["Dock extension"],
    }
    assert [group.object.api_name for group in groups] == ["Account", "Deal"]
    ranks = [hit.rank for hit in groups[0].hits]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]


def test_more_is_flagged_beyond_the_page(world: SearchWorld) -> None:
    tenant = world.tenant
    for number in range(4):
        create(tenant, "Account", Name=f"Nimbus {number}")
    (group,) = found(tenant, tenant.admin_email, "nimbus", per_object=3)
    assert len(group.hits) == 3 and group.more is True
    (group,) = found(tenant, tenant.admin_email, "nimbus", per_object=4)
    assert group.more is False


def _admin_and_rep_deals(world: SearchWorld, count: int, notes: str, rep_notes: str) -> None:
    """``count`` deals of the admin's and one of the rep's ("Rep deal")."""
    for number in range(count):
        create(world.tenant, "Deal", Name=f"Admin deal {number}", Notes=notes)
    create(world.tenant, "Deal", token=world.rep.token, Name="Rep deal", Notes=rep_notes)


def test_a_capped_search_says_so_and_ranks_only_what_the_reader_may_read(
    world: SearchWorld,
) -> None:
    tenant = world.tenant
    _admin_and_rep_deals(world, 4, "Kumquat", "Kumquat")
    # Three rows examined (the bound and one), with the page's first readable ones (the
    # same three): three ranked, the group says more may match.
    (group,) = found(tenant, tenant.admin_email, "kumquat", cap=2, per_object=2)
    assert group.capped is True and len(group.hits) == 2 and group.more is True
    (group,) = found(tenant, tenant.admin_email, "kumquat", cap=5)
    assert group.capped is False and len(group.hits) == 5
    # The bound holds everyone's rows, but the admin's deals take no place of the
    # rep's: the first readable records after it are candidates too.
    (group,) = found(tenant, world.rep_email, "kumquat", cap=1)
    assert [hit.name.text for hit in group.hits if hit.name] == ["Rep deal"]
    # Nor is the rep told that others' records match: all they may read was ranked.
    assert group.capped is False


def test_a_common_word_still_finds_what_a_restricted_reader_may_read(
    world: SearchWorld,
) -> None:
    # Far more of the admin's records hold the word than the bound takes; the rep's one
    # record comes last in the index's order (the longest word the prefix starts).
    tenant = world.tenant
    _admin_and_rep_deals(world, 12, "Plum", "Plumbago pie")
    (group,) = found(tenant, world.rep_email, "plum", cap=3, per_object=1)
    assert [hit.name.text for hit in group.hits if hit.name] == ["Rep deal"]
    assert group.more is False and group.capped is False
    (group,) = found(tenant, tenant.admin_email, "plum", cap=3, per_object=1)
    assert group.more is True and group.capped is True
    # Of several words, the rep's first records holding the key word ("plum", the
    # longest without statistics) are those with the others too.
    for number in range(2):
        create(tenant, "Deal", token=world.rep.token, Name=f"Rep plum {number}", Notes="Plum")
    (group,) = found(tenant, world.rep_email, "plum pie", cap=3, per_object=1)
    assert [hit.name.text for hit in group.hits if hit.name] == ["Rep deal"]


def test_multi_word_searches_start_from_the_rarest_word(world: SearchWorld) -> None:
    # Shares of rows holding each common lexeme, as ANALYZE keeps them; a searched word
    # is a prefix, so it counts every lexeme it starts; one starting none is rarest.
    assert rarest(["basalt", "granite"], {}) == "granite"  # no statistics: the longest
    assert rarest(["basalt", "granite"], {"granite": 0.6, "graniteware": 0.1}) == "basalt"
    assert rarest(["gr", "basalt"], {"granite": 0.6, "basaltic": 0.01}) == "basalt"
    assert rarest(["gr", "basalt"], {"granite": 0.01, "basaltic": 0.2}) == "gr"
    tenant = world.tenant
    for number in range(3):
        create(tenant, "Account", Name=f"Quarry {number}", Notes="Granite")
    create(tenant, "Account", Name="Quarry 3", Notes="Granite and basalt")
    # Whichever word the candidates come from, only records with both are found.
    for cap in (1, 10):
        groups = found(tenant, tenant.admin_email, "granite basalt", cap=cap)
        assert names(groups) in ({}, {"Account": ["Quarry 3"]})
    assert names(found(tenant, tenant.admin_email, "granite basalt")) == {"Account": ["Quarry 3"]}


def test_type_ahead_ranks_name_matches_first(world: SearchWorld) -> None:
    tenant = world.tenant
    create(tenant, "Account", Name="Blue Bay", Notes="Near the harbour")
    create(tenant, "Account", Name="Harbour services", Notes="General contractor")
    with reading(tenant, tenant.admin_email) as reader:
        objects = navigation(reader.schema, reader.access)
        suggested = suggest(
            reader.connection, reader.access, reader.schema, objects, query_words("harb")
        )
    assert [hit.name.text for _, hit in suggested if hit.name] == [
        "Harbour services",
        "Blue Bay",
    ]


def test_highlights_escape_the_values(world: SearchWorld) -> None:
    tenant = world.tenant
    create(tenant, "Account", Name="<i>Evil</i> & Co", Notes='<script>alert("x")</script> zebra')
    (group,) = found(tenant, tenant.admin_email, "zebra")
    (hit,) = group.hits
    assert as_html(hit.name) == "&lt;i&gt;Evil&lt;/i&gt; &amp; Co"
    assert as_html(hit.matches[0].snippet) == (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; <mark>zebra</mark>"
    )


def test_long_values_show_a_window_around_the_first_match() -> None:
    text = " ".join(["filler"] * 60) + " the needle is here " + " ".join(["tail"] * 60)
    shown = snippet(text, word_starts(["needle"]))
    assert shown.text.startswith("…") and shown.text.endswith("…")
    assert len(shown.text) <= 170
    (start, end), *_ = shown.marks
    assert shown.text[start:end] == "needle"


def test_a_field_the_reader_may_not_read_is_neither_searched_nor_shown(
    world: SearchWorld,
) -> None:
    tenant = world.tenant
    create(tenant, "Account", Name="Vandelay", Notes="Importer", Private_notes="Vandelay: latex")
    assert names(found(tenant, tenant.admin_email, "latex")) == {"Account": ["Vandelay"]}
    assert found(tenant, world.rep_email, "latex") == []
    assert found(tenant, world.rep_email, "vandelay latex") == []
    # Found through a readable field, the hidden one's text is not shown.
    admin_hits = _matches(found(tenant, tenant.admin_email, "vandelay"))
    assert admin_hits == {"Vandelay": {"Private_notes": "<mark>Vandelay</mark>: latex"}}
    assert _matches(found(tenant, world.rep_email, "vandelay")) == {"Vandelay": {}}
    rep_hits = _matches(found(tenant, world.rep_email, "importer"))
    assert rep_hits == {"Vandelay": {"Notes": "<mark>Importer</mark>"}}


def test_records_the_reader_may_not_see_are_not_found(world: SearchWorld) -> None:
    tenant = world.tenant
    create(tenant, "Deal", Name="Admin deal", Notes="Kumquat")
    create(tenant, "Deal", token=world.rep.token, Name="Rep deal", Notes="Kumquat")
    create(tenant, "Secret", Name="Plan", Notes="Kumquat")
    everything = names(found(tenant, tenant.admin_email, "kumquat"))
    assert {name: sorted(found_names) for name, found_names in everything.items()} == {
        "Deal": ["Admin deal", "Rep deal"],
        "Secret": ["Plan"],
    }
    assert names(found(tenant, world.rep_email, "kumquat")) == {"Deal": ["Rep deal"]}


def test_updates_deletes_and_restores_are_reflected_at_once(world: SearchWorld) -> None:
    tenant = world.tenant
    record = create(tenant, "Account", Name="Pendant", Notes="Apricot")
    path = f"/api/v1/objects/Account/records/{record}"
    assert tenant.api("PATCH", path, json={"Notes": "Blueberry"}).status_code == 200
    assert found(tenant, tenant.admin_email, "apricot") == []
    assert names(found(tenant, tenant.admin_email, "blueberry")) == {"Account": ["Pendant"]}
    assert tenant.api("PATCH", path, json={"Notes": None}).status_code == 200
    assert found(tenant, tenant.admin_email, "blueberry") == []
    assert _term_rows(tenant, "Notes") == 0
    assert tenant.api("DELETE", path).status_code == 204
    assert found(tenant, tenant.admin_email, "pendant") == []
    assert tenant.api("POST", f"{path}/restore").status_code == 200
    assert names(found(tenant, tenant.admin_email, "pendant")) == {"Account": ["Pendant"]}
    # The B-tree of words follows every change of the search rows, a purge included.
    assert tenant.api("PATCH", path, json={"Notes": "Cherry plum"}).status_code == 200
    assert _words_out_of_step(tenant) == []
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        # A purge: the search rows go with the record (their foreign key's cascade).
        connection.execute(sa.text("DELETE FROM records WHERE id = :id"), {"id": record})
    assert _words_out_of_step(tenant) == [] and found(tenant, tenant.admin_email, "cherry") == []


def test_bulk_creates_are_searchable(world: SearchWorld) -> None:
    tenant = world.tenant
    body = {"records": [{"Name": f"Bulk {n}", "Notes": f"Quince {n}"} for n in range(3)]}
    response = tenant.api("POST", "/api/v1/objects/Account/bulk", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert sorted(names(found(tenant, tenant.admin_email, "quince"))["Account"]) == [
        "Bulk 0",
        "Bulk 1",
        "Bulk 2",
    ]


def test_deleting_a_field_removes_its_terms(world: SearchWorld) -> None:
    tenant = world.tenant
    create(tenant, "Account", Name="Kramerica", Notes="Oil tanker bladder")
    assert _term_rows(tenant, "Notes") == 1
    response = tenant.api("DELETE", "/api/v1/meta/objects/Account/fields/Notes")
    assert response.status_code == 204, response.get_data(as_text=True)
    assert _term_rows(tenant, "Notes") == 0 and _words_out_of_step(tenant) == []
    assert found(tenant, tenant.admin_email, "bladder") == []
    # Rolled back, the field and its values come back, and are searched again.
    revisions = tenant.api("GET", "/api/v1/meta/revisions").get_json()["data"]
    previous = revisions[1]["revision"]
    rollback = tenant.api("POST", f"/api/v1/meta/revisions/{previous}/rollback")
    assert rollback.status_code in (200, 201), rollback.get_data(as_text=True)
    assert names(found(tenant, tenant.admin_email, "bladder")) == {"Account": ["Kramerica"]}


def test_changed_labels_and_new_fields(world: SearchWorld) -> None:
    tenant = world.tenant
    record = create(tenant, "Account", Name="Pestler", Tier="gold")
    values = [{"value": "gold", "label": "Platinum partner"}, "silver"]
    response = tenant.api(
        "PATCH", "/api/v1/meta/objects/Account/fields/Tier", json={"values": values}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert found(tenant, tenant.admin_email, "gold") == []
    assert names(found(tenant, tenant.admin_email, "platinum")) == {"Account": ["Pestler"]}
    # A new field has nothing to index until a record has a value for it.
    field = {"api_name": "Motto", "label": "Motto", "type": "text"}
    assert tenant.api("POST", "/api/v1/meta/objects/Account/fields", json=field).status_code == 201
    assert _term_rows(tenant, "Motto") == 0
    path = f"/api/v1/objects/Account/records/{record}"
    assert tenant.api("PATCH", path, json={"Motto": "Serenity now"}).status_code == 200
    assert names(found(tenant, tenant.admin_email, "serenity")) == {"Account": ["Pestler"]}


def test_query_words_are_split_like_values_and_bounded() -> None:
    assert query_words("  Ada@Example.com  ada ") == ["ada", "example", "com"]
    assert query_words("%_ !") == []
    with pytest.raises(BadRequest, match="words"):
        query_words("a-b-c-d-e-f-g-h-i")
    with pytest.raises(BadRequest, match="characters"):
        query_words("a" * 201)
