"""Recent records: one row per user and record, the newest KEEP kept, read back through
the access gate with the name as the reader may see it."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from access_worlds import permission_set
from conftest import TenantFixture
from screen_worlds import build_screens_world, reading, sign_in

from trellis.actor import system_actor
from trellis.records.recent import KEEP, recent_views, remember_view


def _rows(tenant: TenantFixture) -> list[sa.Row]:
    with tenant.app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return list(
            connection.execute(
                sa.text("SELECT user_id, record_id, viewed_at FROM recent_records ORDER BY 3")
            )
        )


def _recent(tenant: TenantFixture, email: str, limit: int = 10) -> list[tuple[str, str | None]]:
    with reading(tenant, email) as reader:
        views = recent_views(reader.connection, reader.access, reader.schema, limit)
    return [(str(view.id), view.name) for view in views]


def test_a_second_view_moves_the_record_up_instead_of_adding_a_row(tenant: TenantFixture) -> None:
    world = build_screens_world(tenant)
    acme, globex = world.ids["acme"], world.ids["globex"]
    with reading(tenant, tenant.admin_email) as admin:
        admin.remember("Account", acme)
        admin.remember("Account", globex)
    first_view = {str(row.record_id): row.viewed_at for row in _rows(tenant)}[acme]
    with reading(tenant, tenant.admin_email) as admin:
        admin.remember("Account", acme)
    rows = _rows(tenant)
    assert len(rows) == 2
    assert [str(row.record_id) for row in rows] == [globex, acme]
    assert rows[-1].viewed_at > first_view
    assert _recent(tenant, tenant.admin_email) == [
        (acme, "Acme Corporation"),
        (globex, "Globex Ltd"),
    ]


def test_each_user_has_recent_records_of_their_own(tenant: TenantFixture) -> None:
    world = build_screens_world(tenant)
    with reading(tenant, tenant.admin_email) as admin:
        admin.remember("Account", world.ids["globex"])
    with reading(tenant, world.rep_email) as rep:
        rep.remember("Deal", world.ids["rep_deal"])
    assert _recent(tenant, world.rep_email) == [(world.ids["rep_deal"], "Acme expansion")]
    assert _recent(tenant, tenant.admin_email) == [(world.ids["globex"], "Globex Ltd")]


def test_what_the_reader_may_no_longer_read_is_left_out(tenant: TenantFixture) -> None:
    world = build_screens_world(tenant)
    ids = world.ids
    with reading(tenant, world.rep_email) as rep:
        # Views from when the rep could read these: the administrator's private deal (as
        # if it had been shared) and a Secret (as if the rep had held the right).
        for api_name, key in (
            ("Account", "acme"),
            ("Deal", "admin_deal"),
            ("Secret", "secret"),
            ("Deal", "rep_deal"),
        ):
            rep.remember(api_name, ids[key])
    assert _recent(tenant, world.rep_email) == [
        (ids["rep_deal"], "Acme expansion"),
        (ids["acme"], "Acme Corporation"),
    ]
    # A record in the recycle bin is left out, and back once restored.
    deleted = tenant.api("DELETE", f"/api/v1/objects/Account/records/{ids['acme']}")
    assert deleted.status_code == 204
    assert _recent(tenant, world.rep_email) == [(ids["rep_deal"], "Acme expansion")]
    restored = tenant.api("POST", f"/api/v1/objects/Account/records/{ids['acme']}/restore")
    assert restored.status_code == 200
    assert len(_recent(tenant, world.rep_email)) == 2
    assert len(_rows(tenant)) == 4  # nothing is forgotten while it is only unreadable


def test_a_name_hidden_by_field_level_security_is_not_shown(tenant: TenantFixture) -> None:
    world = build_screens_world(tenant)
    permission_set(
        tenant,
        "nameless",
        objects={"Account": {"read": True}},
        fields={"Account.Name": {"read": False}},
    )
    response = tenant.api(
        "PATCH", f"/api/v1/users/{world.rep.id}", json={"permission_sets": ["nameless"]}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    with reading(tenant, world.rep_email) as rep:
        rep.remember("Account", world.ids["acme"])
    assert _recent(tenant, world.rep_email) == [(world.ids["acme"], None)]


def test_only_the_newest_views_are_kept(tenant: TenantFixture) -> None:
    world = build_screens_world(tenant)
    body = {"records": [{"Name": f"Account {number:03}"} for number in range(KEEP + 2)]}
    assert tenant.api("POST", "/api/v1/objects/Account/bulk", json=body).status_code == 200
    listed = tenant.api("GET", "/api/v1/objects/Account/records?sort=Name&limit=200")
    accounts = [row for row in listed.get_json()["data"] if row["Name"].startswith("Account ")]
    with reading(tenant, tenant.admin_email) as admin:
        for account in accounts:
            admin.remember("Account", account["id"])
        admin.remember("Deal", world.ids["admin_deal"])
    kept = {str(row.record_id) for row in _rows(tenant)}
    assert len(kept) == KEEP
    # The oldest three views went: the first three accounts viewed.
    assert kept == {account["id"] for account in accounts[3:]} | {world.ids["admin_deal"]}
    newest = _recent(tenant, tenant.admin_email, limit=2)
    assert newest == [
        (world.ids["admin_deal"], "Acme renewal"),
        (accounts[-1]["id"], "Account 051"),
    ]


def test_the_platform_acting_as_itself_views_nothing(tenant: TenantFixture) -> None:
    world = build_screens_world(tenant)
    with reading(tenant, tenant.admin_email) as admin:
        remember_view(
            admin.connection,
            system_actor(tenant.id, tenant.slug),
            admin.schema.object("Account"),
            uuid.UUID(world.ids["acme"]),
        )
    assert _rows(tenant) == []


def test_recent_records_are_of_one_tenant(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine, theirs = build_screens_world(tenant), build_screens_world(other_tenant)
    with reading(tenant, tenant.admin_email) as admin:
        admin.remember("Account", mine.ids["acme"])
    with reading(other_tenant, other_tenant.admin_email) as admin:
        admin.remember("Account", theirs.ids["globex"])
    assert [str(row.record_id) for row in _rows(tenant)] == [mine.ids["acme"]]
    assert _recent(other_tenant, other_tenant.admin_email) == [(theirs.ids["globex"], "Globex Ltd")]


def test_the_recent_menu_and_page_list_the_readers_own_views(
    tenant: TenantFixture, client: Any
) -> None:
    world = build_screens_world(tenant)
    with reading(tenant, world.rep_email) as rep:
        rep.remember("Deal", world.ids["rep_deal"])
    with reading(tenant, tenant.admin_email) as admin:
        admin.remember("Account", world.ids["globex"])
    sign_in(client, tenant, world.rep_email, world.password)
    menu = client.get("/recent/menu", headers={"Accept": "text/html"})
    assert menu.status_code == 200
    fragment = menu.get_data(as_text=True)
    assert "Acme expansion" in fragment and "Globex" not in fragment
    assert 'aria-label="Objects"' not in fragment  # a fragment, with no shell
    page = client.get("/recent", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'href="/o/Deal/{world.ids["rep_deal"]}">Acme expansion</a>' in page
    # Every page's Recent menu links here until it fetches its list.
    assert 'data-url="/recent/menu"' in page


def test_an_empty_recent_menu_says_what_it_will_hold(tenant: TenantFixture, client: Any) -> None:
    sign_in(client, tenant, tenant.admin_email, tenant.admin_password)
    fragment = client.get("/recent/menu").get_data(as_text=True)
    assert "Records you open appear here." in fragment
