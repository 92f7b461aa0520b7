"""Boards as list views through ``/api/v1/objects/<Object>/list-views``: the board part
is checked like the rest of a view (one 400 naming every mistake, nothing saved), read
back without what field-level security hides, and carried by metadata packages."""

from __future__ import annotations

from typing import Any

import pytest
from board_worlds import PIPELINE, VIEWS, build_board_world
from conftest import TenantFixture
from helpers import assert_envelope
from list_worlds import ListWorld


@pytest.fixture()
def world(tenant: TenantFixture) -> ListWorld:
    return build_board_world(tenant, deals=4)


def board_of(response: Any) -> Any:
    assert response.status_code in {200, 201}, response.get_data(as_text=True)
    return response.get_json()["board"]


def test_a_board_is_saved_as_the_metadata_spells_it(world: ListWorld) -> None:
    body = {
        "api_name": "my_board",
        "label": "My board",
        "board": {"group_by": "stage", "card_fields": ["amount", "account.industry"]},
    }
    assert board_of(world.rep.api("POST", VIEWS, json=body)) == {
        "group_by": "Stage",
        "card_fields": ["Amount", "Account.Industry"],
        "summary_field": None,
    }
    # A view without a board says so; a board can be taken off again.
    assert board_of(world.rep.api("GET", f"{VIEWS}/all")) is None
    assert board_of(world.rep.api("PATCH", f"{VIEWS}/my_board", json={"board": None})) is None
    assert board_of(world.rep.api("GET", f"{VIEWS}/my_board")) is None


def test_every_board_mistake_is_named_in_one_400_and_nothing_is_saved(
    world: ListWorld,
) -> None:
    body = {
        "api_name": "bad_board",
        "label": "Bad board",
        "board": {
            "group_by": "Amount",
            "card_fields": ["Nope", "Amount", "Amount"],
            "summary_field": "Stage",
        },
    }
    errors = assert_envelope(world.tenant.api("POST", VIEWS, json=body), 400, "invalid_list_view")[
        "errors"
    ]
    assert errors == {
        "board.group_by": ["Group by a picklist field of Deal."],
        "board.card_fields.0": ["Unknown field 'Nope'."],
        "board.card_fields.2": ["Amount is already on the cards."],
        "board.summary_field": ["Sum a number field of Deal, or null for none."],
    }
    shapes = [
        {"group_by": "Nope"},
        {"group_by": "Stage", "colour": "blue"},
        {"group_by": "Stage", "card_fields": "Amount"},
        {"group_by": "Stage", "card_fields": [f"f{n}" for n in range(9)]},
        "Stage",
    ]
    for board in shapes:
        response = world.tenant.api("POST", VIEWS, json={**body, "board": board})
        assert_envelope(response, 400, "invalid_list_view")
    names = [view["api_name"] for view in world.tenant.api("GET", VIEWS).get_json()["data"]]
    assert "bad_board" not in names
    # A change with a mistake leaves the stored board as it was.
    response = world.tenant.api("PATCH", f"{VIEWS}/pipeline", json={"board": {"group_by": "x"}})
    assert_envelope(response, 400, "invalid_list_view")
    assert board_of(world.tenant.api("GET", f"{VIEWS}/pipeline"))["group_by"] == "Stage"


def test_a_hidden_field_is_unknown_to_the_author_and_left_off_for_readers(
    world: ListWorld,
) -> None:
    hidden = {"api_name": "margins", "label": "Margins"}
    for board in ({"group_by": "Stage", "summary_field": "Margin"},):
        response = world.rep.api("POST", VIEWS, json={**hidden, "board": board})
        errors = assert_envelope(response, 400, "invalid_list_view")["errors"]
        assert errors == {"board.summary_field": ["Sum a number field of Deal, or null for none."]}
    # The shared board shows Margin on its cards: the rep's copy goes without it.
    assert board_of(world.tenant.api("GET", f"{VIEWS}/pipeline"))["card_fields"] == [
        "Amount",
        "CloseDate",
        "Account",
        "Margin",
    ]
    assert board_of(world.rep.api("GET", f"{VIEWS}/pipeline")) == {
        "group_by": "Stage",
        "card_fields": ["Amount", "CloseDate", "Account"],
        "summary_field": "Amount",
    }


def test_a_board_travels_in_a_package(world: ListWorld, other_tenant: TenantFixture) -> None:
    package = world.tenant.api("GET", "/api/v1/meta/package").get_json()
    package.pop("permission_sets")
    (entry,) = [view for view in package["list_views"] if view["api_name"] == "pipeline"]
    assert entry["board"] == PIPELINE["board"]
    assert _action(other_tenant, package) == "create"
    assert board_of(other_tenant.api("GET", f"{VIEWS}/pipeline")) == PIPELINE["board"]
    assert _action(other_tenant, package) == "unchanged"
    # The entry is the whole view: without its board, the board goes.
    entry.pop("board")
    assert _action(other_tenant, package) == "update"
    assert board_of(other_tenant.api("GET", f"{VIEWS}/pipeline")) is None


def _action(tenant: TenantFixture, package: dict[str, Any]) -> str:
    response = tenant.api("POST", "/api/v1/meta/package", json=package)
    assert response.status_code == 200, response.get_data(as_text=True)
    (found,) = [
        entry for entry in response.get_json()["list_views"] if entry["api_name"] == "Deal.pipeline"
    ]
    return str(found["action"])
