"""The generated records API: CRUD, validation, lookups, history, events, bulk, lists."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import TenantFixture
from factories import setup_sales
from flask import Flask
from helpers import assert_envelope

SYSTEM = {"id", "version", "created_at", "updated_at", "created_by", "updated_by", "owner_id"}


def records_url(obj: str, suffix: str = "") -> str:
    return f"/api/v1/objects/{obj}/records{suffix}"


def make_account(tenant: TenantFixture, name: str = "Acme") -> dict:
    response = tenant.api("POST", records_url("Account"), json={"Name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def count_rows(app: Flask, tenant: TenantFixture, table: str) -> int:
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_create_read_update_delete_restore(app: Flask, tenant: TenantFixture) -> None:
    setup_sales(tenant)
    account = make_account(tenant)
    created = tenant.api(
        "POST",
        records_url("Opportunity"),
        json={
            "Name": "Big deal",
            "Amount": "1234.567",
            "Stage": "Prospecting",
            "CloseDate": "2026-12-31",
            "Account": account["id"].upper(),
        },
    )
    assert created.status_code == 201
    record = created.get_json()
    assert set(record) == SYSTEM | {"Name", "Amount", "Stage", "CloseDate", "Account"}
    assert record["Amount"] == 1234.57 and record["Account"] == account["id"]
    assert record["version"] == 1 and created.headers["ETag"] == '"1"'
    assert record["owner_id"] == str(tenant.admin_id)
    url = records_url("Opportunity", f"/{record['id']}")
    read = tenant.api("GET", url)
    assert read.get_json() == record and read.headers["ETag"] == '"1"'
    assert tenant.api("GET", url, headers={"If-None-Match": '"1"'}).status_code == 304
    updated = tenant.api(
        "PATCH", url, json={"Stage": "Negotiation", "Amount": None}, headers={"If-Match": '"1"'}
    )
    assert updated.status_code == 200
    assert updated.get_json()["Stage"] == "Negotiation" and updated.get_json()["Amount"] is None
    assert updated.get_json()["version"] == 2
    # A stale write is refused and changes nothing.
    stale = tenant.api("PATCH", url, json={"Stage": "Closed Won"}, headers={"If-Match": '"1"'})
    assert_envelope(stale, 412, "stale_version")
    assert tenant.api("GET", url).get_json()["Stage"] == "Negotiation"
    assert_envelope(tenant.api("PATCH", url, json={}, headers={"If-Match": "garbage"}), 400)
    assert tenant.api("DELETE", url, headers={"If-Match": '"2"'}).status_code == 204
    assert_envelope(tenant.api("GET", url), 404)
    bin_ = tenant.api("GET", records_url("Opportunity", "?deleted=true")).get_json()["data"]
    assert [row["id"] for row in bin_] == [record["id"]]
    restored = tenant.api("POST", records_url("Opportunity", f"/{record['id']}/restore"))
    assert restored.status_code == 200 and restored.get_json()["version"] == 4
    assert_envelope(tenant.api("POST", records_url("Opportunity", f"/{record['id']}/restore")), 409)
    history = tenant.api("GET", records_url("Opportunity", f"/{record['id']}/history")).get_json()
    assert [h["action"] for h in history["data"]] == ["restored", "deleted", "updated", "created"]
    assert history["data"][2]["changes"] == {
        "Stage": ["Prospecting", "Negotiation"],
        "Amount": [1234.57, None],
    }
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        types = (
            connection.execute(
                sa.text("SELECT type FROM events WHERE record_id = :id ORDER BY id"),
                {"id": record["id"]},
            )
            .scalars()
            .all()
        )
    assert types == ["record.created", "record.updated", "record.deleted", "record.restored"]


def test_invalid_values_are_all_reported_and_nothing_is_written(
    app: Flask, tenant: TenantFixture
) -> None:
    setup_sales(tenant)
    before = count_rows(app, tenant, "records"), count_rows(app, tenant, "events")
    response = tenant.api(
        "POST",
        records_url("Opportunity"),
        json={
            "Name": "x" * 121,
            "Amount": "lots",
            "Stage": "Dreaming",
            "CloseDate": "31/12/2026",
            "Nope": 1,
            "Account": "not-an-id",
        },
    )
    body = assert_envelope(response, 422, "validation_error")
    assert set(body["errors"]) == {"Name", "Amount", "Stage", "CloseDate", "Nope", "Account"}
    assert "120" in body["errors"]["Name"][0]
    missing = assert_envelope(tenant.api("POST", records_url("Opportunity"), json={}), 422)
    assert missing["errors"] == {"Name": ["This field is required."]}
    assert (count_rows(app, tenant, "records"), count_rows(app, tenant, "events")) == before


def test_lookups_must_point_at_live_records_of_the_target(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    setup_sales(tenant)
    setup_sales(other_tenant)
    foreign = make_account(other_tenant)
    response = tenant.api(
        "POST", records_url("Opportunity"), json={"Name": "x", "Account": foreign["id"]}
    )
    assert "No Account record" in assert_envelope(response, 422)["errors"]["Account"][0]
    opportunity = tenant.api("POST", records_url("Opportunity"), json={"Name": "o"}).get_json()
    wrong_object = tenant.api(
        "POST", records_url("Opportunity"), json={"Name": "x", "Account": opportunity["id"]}
    )
    assert_envelope(wrong_object, 422)


def test_on_delete_restrict_set_null_and_cascade(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Note",
            "label": "Note",
            "fields": [
                {"api_name": "Body", "type": "text"},
                {
                    "api_name": "Deal",
                    "type": "lookup",
                    "target": "Opportunity",
                    "on_delete": "cascade",
                },
                {
                    "api_name": "About",
                    "type": "lookup",
                    "target": "Account",
                    "on_delete": "set_null",
                },
            ],
        },
    )
    account = make_account(tenant)
    deal = tenant.api(
        "POST", records_url("Opportunity"), json={"Name": "d", "Account": account["id"]}
    ).get_json()
    note = tenant.api(
        "POST",
        records_url("Note"),
        json={"Body": "call back", "Deal": deal["id"], "About": account["id"]},
    ).get_json()
    # restrict: the opportunity holds the account.
    body = assert_envelope(
        tenant.api("DELETE", records_url("Account", f"/{account['id']}")), 409, "referenced"
    )
    assert "1 Opportunity" in body["error"]
    # cascade: deleting the opportunity deletes its note too.
    assert tenant.api("DELETE", records_url("Opportunity", f"/{deal['id']}")).status_code == 204
    assert_envelope(tenant.api("GET", records_url("Note", f"/{note['id']}")), 404)
    # set_null: with the opportunity gone, deleting the account clears the (deleted) note's
    # link only for live records; a live note loses its link.
    live = tenant.api("POST", records_url("Note"), json={"Body": "b", "About": account["id"]})
    assert tenant.api("DELETE", records_url("Account", f"/{account['id']}")).status_code == 204
    cleared = tenant.api("GET", records_url("Note", f"/{live.get_json()['id']}")).get_json()
    assert cleared["About"] is None and cleared["version"] == 2


def test_unique_fields(tenant: TenantFixture) -> None:
    tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Product",
            "label": "Product",
            "fields": [{"api_name": "Sku", "type": "text", "unique": True}],
        },
    )
    first = tenant.api("POST", records_url("Product"), json={"Sku": "A-1"}).get_json()
    body = assert_envelope(
        tenant.api("POST", records_url("Product"), json={"Sku": "A-1"}), 422, "duplicate_value"
    )
    assert list(body["errors"]) == ["Sku"]
    tenant.api("DELETE", records_url("Product", f"/{first['id']}"))
    second = tenant.api("POST", records_url("Product"), json={"Sku": "A-1"})
    assert second.status_code == 201  # deleted records free their values...
    # ...so restoring the first would now clash.
    assert_envelope(
        tenant.api("POST", records_url("Product", f"/{first['id']}/restore")),
        422,
        "duplicate_value",
    )


def test_read_only_and_system_fields(tenant: TenantFixture) -> None:
    tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Case",
            "label": "Case",
            "fields": [
                {"api_name": "Subject", "type": "text"},
                {"api_name": "Number", "type": "auto_number", "format": "CS-{00000}"},
                {"api_name": "Score", "type": "number", "read_only": True},
            ],
        },
    )
    created = tenant.api(
        "POST", records_url("Case"), json={"Subject": "s", "id": "ignored", "version": 99}
    ).get_json()
    assert created["Number"] == "CS-00001" and created["version"] == 1
    body = assert_envelope(
        tenant.api("POST", records_url("Case"), json={"Number": "CS-9", "Score": 3}), 422
    )
    assert set(body["errors"]) == {"Number", "Score"}
    # Echoing a record back unchanged is fine (clients PATCH what they read).
    echoed = tenant.api("PATCH", records_url("Case", f"/{created['id']}"), json=created)
    assert echoed.status_code == 200 and echoed.get_json()["version"] == 1
    bad_owner = tenant.api(
        "PATCH",
        records_url("Case", f"/{created['id']}"),
        json={"owner_id": "00000000-0000-0000-0000-000000000000"},
    )
    assert assert_envelope(bad_owner, 422)["errors"] == {"owner_id": ["No such user."]}


def test_list_filters_sort_fields_and_count(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    rows = [
        ("Alpha", 500, "Prospecting", "2026-01-10"),
        ("Beta", 1500, "Negotiation", None),
        ("Gamma", None, "Closed Won", "2026-03-01"),
        ("Delta", 2500, "Closed Won", "2026-02-01"),
        ("epsilon", 1500, "Closed Lost", "2026-04-01"),
    ]
    for name, amount, stage, close in rows:
        tenant.api(
            "POST",
            records_url("Opportunity"),
            json={"Name": name, "Amount": amount, "Stage": stage, "CloseDate": close},
        )

    def names(query: str) -> list[str]:
        response = tenant.api("GET", records_url("Opportunity", query))
        assert response.status_code == 200, response.get_json()
        return [row["Name"] for row in response.get_json()["data"]]

    assert names("?Stage=Closed%20Won&sort=Name") == ["Delta", "Gamma"]
    assert names("?Amount__gte=1500&sort=-Amount,Name") == ["Delta", "Beta", "epsilon"]
    assert names("?Amount__lt=1000") == ["Alpha"]
    assert names("?Amount__isnull=true") == ["Gamma"]
    assert names("?Amount__ne=1500&sort=Name") == ["Alpha", "Delta", "Gamma"]
    assert names("?Stage__in=Prospecting,Closed%20Lost&sort=Name") == ["Alpha", "epsilon"]
    assert names("?Name__contains=ET&sort=Name") == ["Beta"]
    assert names("?Name__startswith=e") == ["epsilon"]
    assert names("?CloseDate__gt=2026-01-31&sort=CloseDate") == ["Delta", "Gamma", "epsilon"]
    assert names("?sort=-CloseDate&limit=2") == ["Beta", "epsilon"]  # blanks sort last ascending
    projected = tenant.api(
        "GET", records_url("Opportunity", "?fields=Name,Amount&sort=Name&limit=1")
    )
    [row] = projected.get_json()["data"]
    assert set(row) == SYSTEM | {"Name", "Amount"}
    assert (row["Name"], row["Amount"]) == ("Alpha", 500)
    counted = tenant.api("GET", records_url("Opportunity", "?Amount__gt=0&count=true&limit=1"))
    assert counted.get_json()["total"] == 4 and counted.get_json()["next_cursor"]


def test_keyset_pagination_walks_every_record_once(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    amounts = [300, None, 100, 300, 200, None, 100, 400, 300]
    for index, amount in enumerate(amounts):
        tenant.api("POST", records_url("Opportunity"), json={"Name": f"n{index}", "Amount": amount})
    for sort in ("Amount", "-Amount", "-Amount,Name", "Name", "created_at"):
        seen, cursor = [], None
        while True:
            query = f"?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = tenant.api("GET", records_url("Opportunity", query)).get_json()
            seen.extend(row["Name"] for row in page["data"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        everything = tenant.api("GET", records_url("Opportunity", f"?sort={sort}&limit=200"))
        assert seen == [row["Name"] for row in everything.get_json()["data"]], sort
        assert sorted(seen) == sorted(f"n{i}" for i in range(len(amounts)))


def test_one_statement_per_list_shape_serves_every_value(app: Flask, tenant: TenantFixture) -> None:
    """List statements are built once per request shape; the values are parameters."""
    setup_sales(tenant)
    account, other = make_account(tenant, "A"), make_account(tenant, "B")
    for name, amount, stage, owner in (
        ("a", 100, "Prospecting", account),
        ("b", 200, "Negotiation", account),
        ("c", None, "Negotiation", other),
        ("d", 400, "Closed Won", other),
    ):
        tenant.api(
            "POST",
            records_url("Opportunity"),
            json={"Name": name, "Amount": amount, "Stage": stage, "Account": owner["id"]},
        )
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "sort_0" in statement:  # the page query
            statements.append(statement)

    def names(path: str) -> list[str]:
        response = tenant.api("GET", path)
        assert response.status_code == 200, response.get_json()
        return [row["Name"] for row in response.get_json()["data"]]

    engine = app.extensions["trellis"].database.engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        pairs = [
            ("?Stage=Negotiation&sort=Name", ["b", "c"], "?Stage=Closed%20Won&sort=Name", ["d"]),
            ("?Amount__gte=150&sort=Name", ["b", "d"], "?Amount__gte=300&sort=Name", ["d"]),
            ("?Name__contains=A&sort=Name", ["a"], "?Name__contains=d&sort=Name", ["d"]),
            (
                "?Stage__in=Prospecting,Closed%20Won&sort=Name",
                ["a", "d"],
                "?Stage__in=Negotiation,Closed%20Lost&sort=Name",
                ["b", "c"],
            ),
            (
                f"/{account['id']}/related/Opportunity.Account?sort=Name",
                ["a", "b"],
                f"/{other['id']}/related/Opportunity.Account?sort=Name",
                ["c", "d"],
            ),
        ]
        for first, first_names, second, second_names in pairs:
            obj = "Account" if "related" in first else "Opportunity"
            statements.clear()
            assert names(records_url(obj, first)) == first_names, first
            assert names(records_url(obj, second)) == second_names, second
            assert len(statements) == 2 and statements[0] == statements[1], first
        # A blank value is IS NULL: another shape, another statement.
        statements.clear()
        assert names(records_url("Opportunity", "?Amount=")) == ["c"]
        assert names(records_url("Opportunity", "?Amount=200")) == ["b"]
        assert statements[0] != statements[1]
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    # A cursor past the end still counts the matches.
    page = tenant.api(
        "GET", records_url("Opportunity", "?Stage=Negotiation&sort=Name&limit=1&count=true")
    )
    last = tenant.api(
        "GET",
        records_url(
            "Opportunity",
            f"?Stage=Negotiation&sort=Name&limit=1&count=true&cursor={page.get_json()['next_cursor']}",
        ),
    )
    assert [row["Name"] for row in last.get_json()["data"]] == ["c"] and last.get_json()[
        "total"
    ] == 2


def test_bad_list_parameters_are_400s(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    cursor = tenant.api("GET", records_url("Opportunity", "?limit=1")).get_json()["next_cursor"]
    for query, code in [
        ("?Nope=1", "unknown_field"),
        ("?Amount__near=1", "bad_operator"),
        ("?Amount=abc", "bad_filter"),
        ("?CloseDate__gt=yesterday", "bad_filter"),
        ("?sort=Nope", "unknown_field"),
        ("?limit=0", "bad_request"),
        ("?limit=201", "bad_request"),
        ("?cursor=%%%", "invalid_cursor"),
        ("?Amount__isnull=maybe", "bad_filter"),
        ("?id=xyz", "bad_filter"),
        ("?limit=%C2%B2", "bad_request"),
        ("?Name=a%00", "bad_request"),
    ]:
        assert_envelope(tenant.api("GET", records_url("Opportunity", query)), 400, code)
    if cursor:
        other_sort = records_url("Opportunity", f"?sort=Name&cursor={cursor}")
        assert_envelope(tenant.api("GET", other_sort), 400, "invalid_cursor")
    assert_envelope(tenant.api("GET", records_url("Nothing")), 404, "unknown_object")
    assert_envelope(tenant.api("GET", records_url("Opportunity", "/not-a-uuid")), 404)


def test_related_records(tenant: TenantFixture) -> None:
    setup_sales(tenant)
    account, other = make_account(tenant, "A"), make_account(tenant, "B")
    for name, owner in (("x", account), ("y", account), ("z", other)):
        tenant.api("POST", records_url("Opportunity"), json={"Name": name, "Account": owner["id"]})
    related = tenant.api(
        "GET", records_url("Account", f"/{account['id']}/related/Opportunity.Account?sort=Name")
    )
    assert [row["Name"] for row in related.get_json()["data"]] == ["x", "y"]
    assert_envelope(
        tenant.api("GET", records_url("Account", f"/{account['id']}/related/Nope.Field")),
        404,
        "unknown_relation",
    )


def test_bulk_per_record_and_atomic(app: Flask, tenant: TenantFixture) -> None:
    setup_sales(tenant)
    mixed = tenant.api(
        "POST",
        "/api/v1/objects/Opportunity/bulk",
        json={
            "records": [{"Name": "ok"}, {"Amount": 1}, {"Name": "also ok", "Stage": "Prospecting"}]
        },
    )
    body = mixed.get_json()
    assert mixed.status_code == 200 and body["ok"] is False
    assert [r["ok"] for r in body["results"]] == [True, False, True]
    assert body["results"][1]["errors"] == {"Name": ["This field is required."]}
    before = count_rows(app, tenant, "records")
    atomic = tenant.api(
        "POST",
        "/api/v1/objects/Opportunity/bulk",
        json={"atomic": True, "records": [{"Name": "a"}, {"Name": "b", "Amount": "x"}]},
    )
    envelope = assert_envelope(atomic, 422, "bulk_failed")
    assert list(envelope["errors"]) == ["records.1.Amount"]
    assert count_rows(app, tenant, "records") == before
    ids = [r["id"] for r in body["results"] if r["ok"]]
    updates = tenant.api(
        "POST",
        "/api/v1/objects/Opportunity/bulk",
        json={
            "operation": "update",
            "records": [{"id": ids[0], "Amount": 10}, {"id": ids[1], "version": 7, "Amount": 20}],
        },
    )
    assert [r["ok"] for r in updates.get_json()["results"]] == [True, False]
    assert updates.get_json()["results"][1]["status"] == 412
    too_many = tenant.api(
        "POST",
        "/api/v1/objects/Opportunity/bulk",
        json={"records": [{"Name": str(i)} for i in range(201)]},
    )
    assert "records" in assert_envelope(too_many, 400, "too_many_records")["errors"]
    assert count_rows(app, tenant, "records") == before
    assert_envelope(
        tenant.api(
            "POST", "/api/v1/objects/Opportunity/bulk", json={"records": [], "operation": "create"}
        ),
        400,
    )
    deleted = tenant.api(
        "POST",
        "/api/v1/objects/Opportunity/bulk",
        json={"operation": "delete", "records": [{"id": ids[0]}]},
    )
    assert deleted.get_json()["ok"] is True


def test_records_are_isolated_per_tenant(
    tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    setup_sales(tenant)
    setup_sales(other_tenant)
    mine = make_account(tenant)
    assert_envelope(other_tenant.api("GET", records_url("Account", f"/{mine['id']}")), 404)
    assert_envelope(
        other_tenant.api(
            "PATCH", records_url("Account", f"/{mine['id']}"), json={"Name": "stolen"}
        ),
        404,
    )
    assert other_tenant.api("GET", records_url("Account")).get_json()["data"] == []


def test_bulk_create_writes_together_with_the_same_checks(
    app: Flask, tenant: TenantFixture
) -> None:
    """Bulk creates are written in one statement, so uniqueness within the batch, gapless
    auto-numbers, lookups and the history/outbox rows must still hold per record."""
    setup_sales(tenant)
    account = make_account(tenant)
    tenant.api(
        "POST",
        "/api/v1/meta/objects",
        json={
            "api_name": "Product",
            "label": "Product",
            "fields": [
                {"api_name": "Sku", "type": "text", "unique": True},
                {"api_name": "Number", "type": "auto_number", "format": "P-{000}"},
                {
                    "api_name": "Account",
                    "type": "lookup",
                    "target": "Account",
                    "on_delete": "restrict",
                },
            ],
        },
    )
    history, events = count_rows(app, tenant, "record_history"), count_rows(app, tenant, "events")
    response = tenant.api(
        "POST",
        "/api/v1/objects/Product/bulk",
        json={
            "records": [
                {"Sku": "A", "Account": account["id"]},
                {"Sku": "A"},
                {"Sku": "B", "Account": "nope"},
                {"Sku": "C"},
                {"Sku": "B"},
            ]
        },
    )
    results = response.get_json()["results"]
    assert [r["ok"] for r in results] == [True, False, False, True, True]
    assert results[1]["code"] == "duplicate_value" and list(results[1]["errors"]) == ["Sku"]
    # Refused records take no number: the saved ones are numbered without gaps, in order.
    assert [r["record"]["Number"] for r in results if r["ok"]] == ["P-001", "P-002", "P-003"]
    assert [r["record"]["Sku"] for r in results if r["ok"]] == ["A", "C", "B"]
    assert count_rows(app, tenant, "record_history") == history + 3
    assert count_rows(app, tenant, "events") == events + 3
    # Each saved record logs its own history row and event, in the order sent, with every
    # stored value as changed from blank and the record as saved.
    saved = [r["record"] for r in results if r["ok"]]
    with app.extensions["trellis"].database.tenant(tenant.id) as connection:
        logged = connection.execute(
            sa.text(
                "SELECT events.record_id, events.type, events.payload, record_history.action, "
                "record_history.changes FROM events JOIN record_history "
                "ON record_history.record_id = events.record_id "
                "WHERE events.record_id = ANY(CAST(:ids AS uuid[])) ORDER BY events.id"
            ),
            {"ids": [record["id"] for record in saved]},
        ).all()
    assert [str(row.record_id) for row in logged] == [record["id"] for record in saved]
    for row, record in zip(logged, saved, strict=True):
        stored = {
            name: record[name] for name in ("Sku", "Number", "Account") if record[name] is not None
        }
        assert (row.type, row.action) == ("record.created", "created")
        assert row.changes == {name: [None, value] for name, value in stored.items()}
        assert row.payload == {
            "object": "Product",
            "record_id": record["id"],
            "changes": row.changes,
            "record": stored,
            "prior": None,
            "chain": None,
        }
    # The lookup was recorded: the account cannot be deleted while the product refers to it.
    assert_envelope(
        tenant.api("DELETE", records_url("Account", f"/{account['id']}")), 409, "referenced"
    )
    related = tenant.api("GET", records_url("Account", f"/{account['id']}/related/Product.Account"))
    assert [row["Sku"] for row in related.get_json()["data"]] == ["A"]
