"""Incremental sync through the API: changed records by their updated_at, and the
tombstones of deleted ones, each keyset paged."""

from __future__ import annotations

from typing import Any

from access_helpers import create, member, sharing
from conftest import TenantFixture
from factories import SALES_ACCOUNT
from helpers import assert_envelope

RECORDS = "/api/v1/objects/Account/records"
DELETED = "/api/v1/objects/Account/deleted"


def pages(tenant: TenantFixture, path: str, token: str | None = None, **query: Any) -> list:
    """Every row of a keyset-paged list, following next_cursor to the end."""
    rows: list = []
    while True:
        response = tenant.api("GET", path, query_string=query, token=token)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        rows += body["data"]
        if body["next_cursor"] is None:
            return rows
        query["cursor"] = body["next_cursor"]


def accounts(tenant: TenantFixture, *names: str) -> list[str]:
    return [create(tenant, "Account", Name=name) for name in names]


def test_changes_since_a_cursor(tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT).status_code == 201
    first = accounts(tenant, "a", "b", "c", "d", "e")
    synced = pages(tenant, RECORDS, sort="updated_at", limit=2)
    assert [row["id"] for row in synced] == first  # oldest change first, every one once
    cursor = synced[-1]["updated_at"]
    changed = tenant.api("PATCH", f"{RECORDS}/{first[1]}", json={"Name": "b2"})
    assert changed.status_code == 200
    (added,) = accounts(tenant, "f")
    since = pages(tenant, RECORDS, sort="updated_at", limit=1, updated_at__gt=cursor)
    assert [(row["id"], row["Name"]) for row in since] == [(first[1], "b2"), (added, "f")]
    # Inclusive, for a client that re-reads the last moment it saw (and upserts by id).
    again = pages(tenant, RECORDS, sort="updated_at", updated_at__gte=since[-1]["updated_at"])
    assert [row["id"] for row in again] == [added]
    everything = pages(tenant, RECORDS, sort="updated_at", updated_at__gte="2000-01-01T00:00:00Z")
    assert len(everything) == 6


def test_deleted_records_leave_tombstones(tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT).status_code == 201
    ids = accounts(tenant, "a", "b", "c", "d")
    assert pages(tenant, DELETED) == []
    for record_id in ids[:3]:
        assert tenant.api("DELETE", f"{RECORDS}/{record_id}").status_code == 204
    tombstones = pages(tenant, DELETED, limit=2)
    assert [row["id"] for row in tombstones] == ids[:3]
    assert set(tombstones[0]) == {"id", "deleted_at"}
    # Since the first deletion: the later two; a restored record leaves the list and is
    # among the changed records again.
    later = pages(tenant, DELETED, since=tombstones[0]["deleted_at"])
    assert [row["id"] for row in later] == ids[1:3]
    assert tenant.api("POST", f"{RECORDS}/{ids[1]}/restore").status_code == 200
    assert [row["id"] for row in pages(tenant, DELETED)] == [ids[0], ids[2]]
    changed = pages(tenant, RECORDS, sort="updated_at", updated_at__gt=tombstones[-1]["deleted_at"])
    assert [row["id"] for row in changed] == [ids[1]]


def test_tombstones_show_only_readable_records(tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT).status_code == 201
    sharing(tenant, "Account", sharing_model="private", sharing_rules=[])
    user = member(tenant, "seller")
    (theirs,) = [create(tenant, "Account", token=user.token, Name="theirs")]
    (admins,) = accounts(tenant, "admin's")
    for record_id in (theirs, admins):
        assert tenant.api("DELETE", f"{RECORDS}/{record_id}").status_code == 204
    assert [row["id"] for row in pages(tenant, DELETED, token=user.token)] == [theirs]
    assert {row["id"] for row in pages(tenant, DELETED)} == {theirs, admins}


def test_bad_tombstone_requests(tenant: TenantFixture, other_tenant: TenantFixture) -> None:
    assert tenant.api("POST", "/api/v1/meta/objects", json=SALES_ACCOUNT).status_code == 201
    for query, field in (
        ({"since": "yesterday"}, "since"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
    ):
        response = tenant.api("GET", DELETED, query_string=query)
        assert field in assert_envelope(response, 400)["errors"]
    assert_envelope(tenant.api("GET", "/api/v1/objects/Nothing/deleted"), 404)
    # Another workspace's object of the same name is not this one's.
    assert_envelope(other_tenant.api("GET", DELETED), 404)
    # A naive time is UTC.
    assert (
        tenant.api("GET", DELETED, query_string={"since": "2026-01-01T00:00:00"}).status_code == 200
    )
