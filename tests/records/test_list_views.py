"""List views through ``/api/v1/objects/<Object>/list-views``: the generated ``all`` and
``mine``, validation with one clear 400, field-level security, who may change what, and
shared views in metadata packages."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TenantFixture
from helpers import assert_envelope
from list_worlds import ListWorld, build_list_world
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

VIEWS = "/api/v1/objects/Deal/list-views"
BIG_DEALS = {
    "api_name": "big_deals",
    "label": "Big deals",
    "columns": ["Name", {"field": "amount", "width": 140}, "Account.Industry"],
    "filters": [
        {"field": "Amount", "operator": "gte", "value": 50000},
        {"field": "Stage", "operator": "ne", "value": "Closed Lost"},
    ],
    "sort": "-amount",
}


@pytest.fixture()
def world(tenant: TenantFixture) -> ListWorld:
    return build_list_world(tenant, deals=4)


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [view["api_name"] for view in response.get_json()["data"]]


def columns(view: dict[str, Any]) -> list[str]:
    return [column["field"] for column in view["columns"]]


def test_every_object_has_all_and_mine(world: ListWorld) -> None:
    listed = world.tenant.api("GET", VIEWS).get_json()["data"]
    assert [(v["api_name"], v["label"], v["generated"]) for v in listed] == [
        ("all", "All Deals", True),
        ("mine", "My Deals", True),
    ]
    every, mine = listed
    # The name field and the first five others; long text is no list column.
    assert columns(every) == ["Name", "Amount", "Stage", "CloseDate", "Account", "Margin"]
    assert every["filters"] == [] and every["sort"] == "-created_at"
    assert mine["filters"] == [{"field": "owner_id", "operator": "eq", "value": "$User.Id"}]
    assert every["visibility"] == "shared" and every["id"] is None
    # The rep may not read Margin: their generated columns go without it.
    rep_all = world.rep.api("GET", f"{VIEWS}/all").get_json()
    assert columns(rep_all) == ["Name", "Amount", "Stage", "CloseDate", "Account"]


def test_a_view_is_saved_as_the_metadata_spells_it(world: ListWorld) -> None:
    created = world.rep.api("POST", VIEWS, json=BIG_DEALS)
    assert created.status_code == 201, created.get_data(as_text=True)
    view = created.get_json()
    assert view["visibility"] == "private" and view["owner_id"] == str(world.rep.id)
    assert view["columns"] == [
        {"field": "Name", "width": None},
        {"field": "Amount", "width": 140},
        {"field": "Account.Industry", "width": None},
    ]
    assert view["filters"] == [
        {"field": "Amount", "operator": "gte", "value": "50000"},
        {"field": "Stage", "operator": "ne", "value": "Closed Lost"},
    ]
    assert view["sort"] == "-Amount"
    assert names(world.rep.api("GET", VIEWS)) == ["all", "mine", "big_deals"]
    assert world.rep.api("GET", f"{VIEWS}/BIG_DEALS").get_json()["label"] == "Big deals"


def test_every_mistake_is_named_in_one_400_and_nothing_is_saved(world: ListWorld) -> None:
    body = {
        "api_name": "9 lives",
        "label": " ",
        "columns": ["Nope", {"field": "Amount", "width": 10}, "Stage", "Stage", "Name,Amount"],
        "filters": [
            {"field": "Amount", "operator": "contains", "value": "5"},
            {"field": "Amount", "operator": "gte", "value": "lots"},
            {"field": "Stage", "value": "$User.Id"},
            {"field": "Stage", "operator": "eq", "value": {"nested": True}},
            {"field": "Nope", "operator": "eq", "value": "x"},
        ],
        "sort": "-Nope",
        "colour": "blue",
    }
    response = world.rep.api("POST", VIEWS, json=body)
    errors = assert_envelope(response, 400, "invalid_list_view")["errors"]
    assert errors == {
        "body": [
            "Unknown keys: colour; a view has api_name, label, visibility, columns, filters, sort, "
            "board."
        ],
        "api_name": ["A letter, then letters, digits or _ (at most 63)."],
        "label": ["Name the view in 1 to 80 characters."],
        "columns.0": ["Unknown field 'Nope'."],
        "columns.1": ["A width is a whole number of pixels, 60 to 800."],
        "columns.3": ["Stage is already a column."],
        "columns.4": ["Unknown field 'Name,Amount'."],
        "filters.0": [
            "Operator 'contains' does not apply to Amount; use one of eq, ne, in, isnull, "
            "gt, gte, lt, lte."
        ],
        "filters.1": ["Enter a number, such as 12.5 or -3 (got 'lots')."],
        "filters.2": ["$User.Id compares with the owner or a user lookup."],
        "filters.3": [
            "A filter's value is text of at most 1000 characters, a number or true/false."
        ],
        "filters.4": ["Deal has no field 'Nope' to filter on."],
        "sort": ["Cannot sort by 'Nope'."],
    }
    assert names(world.rep.api("GET", VIEWS)) == ["all", "mine"]
    assert_envelope(world.rep.api("POST", VIEWS, json=["not", "a", "view"]), 400)


def test_a_field_the_author_may_not_read_is_as_unknown_as_none(world: ListWorld) -> None:
    for part, hidden, missing in (
        ("columns", ["Name", "Margin"], ["Name", "Nothing"]),
        ("filters", [{"field": "Margin", "value": 1}], [{"field": "Nothing", "value": 1}]),
        ("sort", "Margin", "Nothing"),
    ):
        said = []
        for value in (hidden, missing):
            body = {"api_name": "peek", "label": "Peek", part: value}
            errors = assert_envelope(world.rep.api("POST", VIEWS, json=body), 400)["errors"]
            said.append(str(errors).replace("Margin", "?").replace("Nothing", "?"))
        assert said[0] == said[1], part
    # The administrator may use Margin.
    body = {"api_name": "margins", "label": "Margins", "columns": ["Name", "Margin"]}
    assert world.tenant.api("POST", VIEWS, json=body).status_code == 201


def test_a_reader_gets_a_shared_view_without_what_they_may_not_read(world: ListWorld) -> None:
    body = {
        **BIG_DEALS,
        "visibility": "shared",
        "columns": ["Name", "Margin", "Amount"],
        "filters": [{"field": "Margin", "operator": "gte", "value": 10}],
        "sort": "-Margin",
    }
    assert world.tenant.api("POST", VIEWS, json=body).status_code == 201
    seen = world.rep.api("GET", f"{VIEWS}/big_deals").get_json()
    assert columns(seen) == ["Name", "Amount"]
    assert seen["filters"] == [] and seen["sort"] == "-created_at"
    stored = world.tenant.api("GET", f"{VIEWS}/big_deals").get_json()
    assert columns(stored) == ["Name", "Margin", "Amount"] and stored["sort"] == "-Margin"


def test_private_views_are_their_owners_alone(world: ListWorld) -> None:
    assert world.rep.api("POST", VIEWS, json=BIG_DEALS).status_code == 201
    assert names(world.tenant.api("GET", VIEWS)) == ["all", "mine"]
    assert_envelope(world.tenant.api("GET", f"{VIEWS}/big_deals"), 404, "unknown_list_view")
    assert_envelope(world.tenant.api("DELETE", f"{VIEWS}/big_deals"), 404)
    changed = world.rep.api("PATCH", f"{VIEWS}/big_deals", json={"label": "Bigger deals"})
    assert changed.status_code == 200 and changed.get_json()["label"] == "Bigger deals"
    assert (
        changed.get_json()["columns"]
        == world.rep.api("GET", f"{VIEWS}/big_deals").get_json()["columns"]
    ), "a change keeps what it does not name"
    assert world.rep.api("DELETE", f"{VIEWS}/big_deals").status_code == 204
    assert names(world.rep.api("GET", VIEWS)) == ["all", "mine"]


def test_shared_views_need_the_manage_metadata_right(world: ListWorld) -> None:
    shared = {**BIG_DEALS, "visibility": "shared"}
    assert_envelope(world.rep.api("POST", VIEWS, json=shared), 403, "no_system_right")
    assert world.tenant.api("POST", VIEWS, json=shared).status_code == 201
    assert names(world.rep.api("GET", VIEWS)) == ["all", "mine", "big_deals"]
    assert_envelope(world.rep.api("PATCH", f"{VIEWS}/big_deals", json={"label": "x"}), 403)
    assert_envelope(world.rep.api("DELETE", f"{VIEWS}/big_deals"), 403)
    assert_envelope(world.rep.api("PATCH", f"{VIEWS}/all", json={"label": "x"}), 403)
    changed = world.tenant.api("PATCH", f"{VIEWS}/big_deals", json={"sort": "Name"})
    assert changed.get_json()["sort"] == "Name"
    events = world.tenant.api(
        "GET", "/api/v1/audit", query_string={"action": "metadata.changed"}
    ).get_json()["data"]
    changes = [
        (e["target_id"], e["details"]["change"]) for e in events if e["target_type"] == "list_view"
    ]
    assert sorted(changes) == [("Deal.big_deals", "created"), ("Deal.big_deals", "updated")]


def test_a_shared_view_replaces_a_generated_one_until_it_is_deleted(world: ListWorld) -> None:
    changed = world.tenant.api(
        "PATCH", f"{VIEWS}/all", json={"label": "Every deal", "columns": ["Name", "Stage"]}
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["generated"] is False
    listed = world.rep.api("GET", VIEWS).get_json()["data"]
    assert [(v["api_name"], v["label"]) for v in listed] == [
        ("all", "Every deal"),
        ("mine", "My Deals"),
    ]
    assert world.tenant.api("DELETE", f"{VIEWS}/all").status_code == 204
    assert world.rep.api("GET", f"{VIEWS}/all").get_json()["label"] == "All Deals"
    assert_envelope(world.tenant.api("DELETE", f"{VIEWS}/all"), 409, "generated_list_view")


def test_names_are_unique_among_the_views_a_reader_knows(world: ListWorld) -> None:
    shared = {**BIG_DEALS, "visibility": "shared"}
    assert world.tenant.api("POST", VIEWS, json=shared).status_code == 201
    assert_envelope(world.tenant.api("POST", VIEWS, json=shared), 409, "list_view_exists")
    assert_envelope(world.rep.api("POST", VIEWS, json=BIG_DEALS), 409, "list_view_exists")
    mine = {**BIG_DEALS, "api_name": "Mine"}
    assert_envelope(world.rep.api("POST", VIEWS, json=mine), 409, "list_view_exists")
    # Two users' private views may share a name.
    other = {**BIG_DEALS, "api_name": "pipeline"}
    assert world.rep.api("POST", VIEWS, json=other).status_code == 201
    assert world.tenant.api("POST", VIEWS, json=other).status_code == 201


def test_a_view_keeps_its_name_and_visibility(world: ListWorld) -> None:
    assert world.rep.api("POST", VIEWS, json=BIG_DEALS).status_code == 201
    for change in ({"api_name": "renamed"}, {"visibility": "shared"}):
        response = world.rep.api("PATCH", f"{VIEWS}/big_deals", json=change)
        assert_envelope(response, 400, "invalid_list_view")
    assert world.rep.api("GET", f"{VIEWS}/big_deals").get_json()["visibility"] == "private"


def test_views_of_an_object_the_user_may_not_read_are_forbidden(world: ListWorld) -> None:
    response = world.tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Plan",
            "label": "Plan",
            "fields": [{"api_name": "Name", "type": "text"}],
        },
    )
    assert response.status_code == 201
    assert_envelope(world.rep.api("GET", "/api/v1/objects/Plan/list-views"), 403)
    assert_envelope(world.rep.api("GET", "/api/v1/objects/Nothing/list-views"), 404)


def test_the_openapi_document_describes_list_views(world: ListWorld) -> None:
    spec = world.tenant.api("GET", "/api/v1/openapi.json").get_json()
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert set(spec["paths"]["/objects/Deal/list-views"]) == {"get", "post"}
    assert set(spec["paths"]["/objects/Deal/list-views/{view_name}"]) == {"get", "patch", "delete"}
    listed = spec["paths"]["/objects/Deal/list-views"]["get"]
    assert listed["operationId"] == "listDealListViews"
    assert "ListView" in spec["components"]["schemas"]


def objects_and_views(world: ListWorld) -> dict[str, Any]:
    """The world's package without its permission sets (which name the objects, and are
    imported before them)."""
    package = world.tenant.api("GET", "/api/v1/meta/package").get_json()
    package.pop("permission_sets")
    return package


def test_shared_views_travel_in_packages(world: ListWorld, other_tenant: TenantFixture) -> None:
    shared = {**BIG_DEALS, "visibility": "shared"}
    assert world.tenant.api("POST", VIEWS, json=shared).status_code == 201
    assert world.rep.api("POST", VIEWS, json={**BIG_DEALS, "api_name": "mine_only"}).status_code
    package = objects_and_views(world)
    assert package["list_views"] == [
        {
            "object": "Deal",
            "api_name": "big_deals",
            "label": "Big deals",
            "columns": ["Name", {"field": "Amount", "width": 140}, "Account.Industry"],
            "filters": [
                {"field": "Amount", "operator": "gte", "value": "50000"},
                {"field": "Stage", "operator": "ne", "value": "Closed Lost"},
            ],
            "sort": "-Amount",
        }
    ]
    dry = other_tenant.api("POST", "/api/v1/meta/package?dry_run=true", json=package).get_json()
    assert dry["list_views"] == [
        {
            "kind": "list_view",
            "api_name": "Deal.big_deals",
            "action": "create",
            "diff": [{"change": "object created"}],
        }
    ]
    assert other_tenant.api("GET", "/api/v1/objects/Deal/list-views").status_code == 404
    done = other_tenant.api("POST", "/api/v1/meta/package", json=package).get_json()
    assert done["changed"] is True and done["list_views"][0]["action"] == "create"
    copied = other_tenant.api("GET", f"{VIEWS}/big_deals").get_json()
    assert copied["visibility"] == "shared" and copied["sort"] == "-Amount"
    again = other_tenant.api("POST", "/api/v1/meta/package", json=package).get_json()
    assert again["list_views"][0]["action"] == "unchanged"
    package["list_views"][0]["label"] = "Large deals"
    updated = other_tenant.api("POST", "/api/v1/meta/package", json=package).get_json()
    assert updated["list_views"][0]["action"] == "update"
    assert other_tenant.api("GET", f"{VIEWS}/big_deals").get_json()["label"] == "Large deals"


def test_a_package_with_a_bad_view_imports_nothing(
    world: ListWorld, other_tenant: TenantFixture
) -> None:
    package = objects_and_views(world)
    package["list_views"] = [
        {"object": "Deal", "api_name": "broken", "label": "Broken", "columns": ["Nope"]},
        {"object": "Nowhere", "api_name": "lost", "label": "Lost"},
    ]
    response = other_tenant.api("POST", "/api/v1/meta/package", json=package)
    errors = assert_envelope(response, 422)["errors"]
    assert errors["list_views.0.columns.0"] == ["Unknown field 'Nope'."]
    assert "list_views.1" in errors
    assert other_tenant.api("GET", "/api/v1/meta/objects").get_json()["data"] == []
    package["list_views"] = "all of them"
    assert_envelope(other_tenant.api("POST", "/api/v1/meta/package", json=package), 422)
