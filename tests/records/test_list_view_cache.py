"""The list screen's views kept per process against the tenant's list views stamp: a
page whose stamp stands is served what was kept, and every change through the list
views store moves the stamp, so the next page reads afresh."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from conftest import TenantFixture
from helpers import csrf_token
from list_worlds import ListWorld, build_list_world
from screen_worlds import sign_in

VIEW = {
    "api_name": "big_deals",
    "label": "Big deals",
    "columns": ["Name", "Amount"],
    "filters": [{"field": "Amount", "operator": "gte", "value": "2000"}],
    "sort": "-Amount",
}
VIEWS = "/api/v1/objects/Deal/list-views"


@pytest.fixture()
def world(tenant: TenantFixture) -> ListWorld:
    return build_list_world(tenant, deals=5)


@pytest.fixture()
def rep(app: Any, world: ListWorld) -> Any:
    client = app.test_client()
    sign_in(client, world.tenant, world.rep_email, world.password)
    return client


def page(client: Any, url: str = "/o/Deal?view=big_deals") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return str(response.get_data(as_text=True))


def stamp(app: Any, tenant: TenantFixture) -> int:
    with app.extensions["trellis"].database.owner() as connection:
        return int(
            connection.execute(
                sa.text("SELECT list_views_stamp FROM tenants WHERE id = :t"), {"t": tenant.id}
            ).scalar_one()
        )


def relabel_behind_the_store(app: Any, tenant: TenantFixture, label: str) -> None:
    """Change the view's row (and its version, which readers' checked views key on) as
    no Trellis code does: without moving the stamp."""
    with app.extensions["trellis"].database.owner() as connection:
        connection.execute(
            sa.text(
                "UPDATE list_views SET label = :label, updated_at = clock_timestamp() "
                "WHERE tenant_id = :t"
            ),
            {"label": label, "t": tenant.id},
        )


def test_a_page_under_the_same_stamp_is_served_what_was_kept(
    app: Any, rep: Any, world: ListWorld
) -> None:
    assert world.rep.api("POST", VIEWS, json=VIEW).status_code == 201
    assert "Big deals" in page(rep)
    relabel_behind_the_store(app, world.tenant, "Relabelled behind the store")
    kept = page(rep)
    assert "Big deals" in kept and "Relabelled behind the store" not in kept
    # The API reads the store itself, and the row did change.
    assert world.rep.api("GET", f"{VIEWS}/big_deals").get_json()["label"] == (
        "Relabelled behind the store"
    )


def test_every_change_through_the_store_moves_the_stamp_and_shows_next_page(
    app: Any, rep: Any, world: ListWorld
) -> None:
    before = stamp(app, world.tenant)
    assert world.rep.api("POST", VIEWS, json=VIEW).status_code == 201
    created = stamp(app, world.tenant)
    assert created > before
    assert "Big deals" in page(rep)

    # Another client (a token, as another process would) renames it: the next page says so.
    renamed = world.rep.api("PATCH", f"{VIEWS}/big_deals", json={"label": "Large deals"})
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    assert stamp(app, world.tenant) > created
    assert "Large deals" in page(rep)

    # The reader's own column choice, saved from the screen, shows on the next page.
    token = csrf_token(page(rep))
    chosen = rep.post(
        "/o/Deal/list/columns",
        json={"view": "big_deals", "columns": [{"field": "Amount"}, {"field": "Name"}]},
        headers={"X-CSRF-Token": token},
    )
    assert chosen.status_code == 204, chosen.get_data(as_text=True)
    shown = page(rep)
    assert shown.index('data-column="Amount"') < shown.index('data-column="Name"')

    deleted = world.rep.api("DELETE", f"{VIEWS}/big_deals")
    assert deleted.status_code == 204, deleted.get_data(as_text=True)
    assert rep.get("/o/Deal?view=big_deals").status_code == 404


def test_a_refused_change_leaves_the_stamp_where_it_was(
    app: Any, rep: Any, world: ListWorld
) -> None:
    assert world.rep.api("POST", VIEWS, json=VIEW).status_code == 201
    before = stamp(app, world.tenant)
    again = world.rep.api("POST", VIEWS, json=VIEW)  # the name is taken: nothing is saved
    assert again.status_code == 409
    assert stamp(app, world.tenant) == before
    assert "Big deals" in page(rep)
