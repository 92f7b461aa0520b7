"""The list screen vs the JSON API answering the same data, at 1M records.

Run: ``python benchmarks/screens_bench.py [--records 1000000] [--accounts 10000]
[--iterations 200] [--keep]``. It needs PostgreSQL (user ``postgres``, trust) and Redis
on 127.0.0.1, like the tests.

What it does, all in one run, through Trellis itself:

1. creates a scratch database ``trellis_screens_bench`` (dropped first) and loads the
   where benchmark's data with its loader (``where_bench.setup``: the Opportunity object,
   N records, the Amount and Stage indexes, ``VACUUM ANALYZE``);
2. creates an Account object (metadata API) and ``--accounts`` accounts (one
   ``INSERT … SELECT generate_series``), adds an ``Account`` lookup to Opportunity
   (metadata API) and points every opportunity at an account (one ``UPDATE``, then
   ``VACUUM ANALYZE``). ``record_refs`` rows are not written: reads do not use them;
3. saves a shared list view through the list views API: columns Name, Account, Amount,
   Stage, Close date; filters ``Stage = Negotiation`` and ``Amount >= 5000``; sort
   ``-Amount``;
4. signs the administrator in (the login form, a browser session) and checks that the
   screen (``/o/Opportunity?view=bench``) and the API (``…/records?Stage=Negotiation&
   Amount__gte=5000&sort=-Amount&limit=50&fields=Name,Account,Account.Name,Amount,
   Stage,CloseDate``, a bearer token) list the same 50 records, in the same order;
5. times both through the Flask test client, alternating them so that they see the same
   machine load (the server's time: routing, authentication, the list query, rendering
   the HTML or the JSON), and prints p50/p95 and their ratio against the targets (the
   screen within 1.5x of the API, its p95 under 50 ms); then the same for the count the
   screen fetches after the page (``/o/Opportunity/list/count``) against the API's
   ``count=true``, for reference;
6. drops the database unless ``--keep``; ``--reuse`` measures again on a kept one.

Nothing is asserted: it prints measured numbers and their ratios.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import uuid
from typing import Any

import where_bench  # a sibling script: benchmarks/ is on sys.path when run as a script

DATABASE = "trellis_screens_bench"
RATIO_TARGET, P95_TARGET_MS = 1.5, 50.0
ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [{"api_name": "Name", "type": "text", "required": True}],
}
LOOKUP = {"api_name": "Account", "type": "lookup", "target": "Account", "label": "Account"}
VIEW = {
    "api_name": "bench",
    "label": "Negotiation over 5,000",
    "visibility": "shared",
    "columns": ["Name", "Account", "Amount", "Stage", "CloseDate"],
    "filters": [
        {"field": "Stage", "operator": "eq", "value": "Negotiation"},
        {"field": "Amount", "operator": "gte", "value": "5000"},
    ],
    "sort": "-Amount",
}
SCREEN = "/o/Opportunity?view=bench"
API = "/api/v1/objects/Opportunity/records"
API_QUERY = {
    "Stage": "Negotiation",
    "Amount__gte": "5000",
    "sort": "-Amount",
    "limit": "50",
    "fields": "Name,Account,Account.Name,Amount,Stage,CloseDate",
}
ACCOUNTS_SQL = """
INSERT INTO records (tenant_id, object_id, data, owner_id, created_by, updated_by)
SELECT CAST(:tenant AS uuid), CAST(:object AS uuid), jsonb_build_object('Name', 'Account ' || g),
       CAST(:user AS uuid), CAST(:user AS uuid), CAST(:user AS uuid)
FROM generate_series(1, :count) AS g
"""
# Each opportunity gets the account numbered by a hash of its id: spread, and repeatable.
POINT_SQL = """
UPDATE records r SET data = r.data || jsonb_build_object('Account', a.id)
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM records
      WHERE tenant_id = CAST(:tenant AS uuid) AND object_id = CAST(:account AS uuid)) a
WHERE r.tenant_id = CAST(:tenant AS uuid) AND r.object_id = CAST(:opportunity AS uuid)
  AND a.n = abs(hashtext(r.id::text)) % :count
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=200, help="timed requests per side")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--count-iterations", type=int, default=20)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure again on the database a --keep run left (no loading; implies --keep)",
    )
    where_bench.add_scratch_arguments(parser)
    return parser.parse_args()


def api(client: Any, token: str, method: str, path: str, body: Any, expect: int) -> Any:
    response = client.open(
        path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != expect:
        raise SystemExit(
            f"{method} {path}: {response.status_code} {response.get_data(as_text=True)}"
        )
    return response.get_json()


def add_accounts(app: Any, tenant_id: uuid.UUID, token: str, accounts: int) -> None:
    """The Account object and its records, and every opportunity pointed at one."""
    import sqlalchemy as sa

    client = app.test_client()
    account = api(client, token, "POST", "/api/v1/meta/objects", ACCOUNT, 201)
    api(client, token, "POST", "/api/v1/meta/objects/Opportunity/fields", LOOKUP, 201)
    database = app.extensions["trellis"].database
    started = time.perf_counter()
    with database.owner() as connection:
        ids = connection.execute(
            sa.text(
                "SELECT (SELECT id FROM meta_objects WHERE tenant_id = :t AND api_name = "
                "'Opportunity') AS opportunity, (SELECT id FROM users WHERE tenant_id = :t "
                "LIMIT 1) AS user"
            ),
            {"t": tenant_id},
        ).one()
        values = {"tenant": str(tenant_id), "count": accounts}
        connection.execute(
            sa.text(ACCOUNTS_SQL), {**values, "object": account["id"], "user": str(ids.user)}
        )
        connection.execute(
            sa.text(POINT_SQL),
            {**values, "account": account["id"], "opportunity": str(ids.opportunity)},
        )
    with database.owner_engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.execute(sa.text("VACUUM ANALYZE records"))
    print(
        f"setup: {accounts:,} accounts, every opportunity pointed at one, VACUUM ANALYZE in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )


def signed_in_client(app: Any, tenant_id: uuid.UUID) -> Any:
    """A test client with the administrator's browser session (the login form)."""
    import sqlalchemy as sa

    with app.extensions["trellis"].database.owner() as connection:
        slug = connection.execute(
            sa.text("SELECT slug FROM tenants WHERE id = :t"), {"t": tenant_id}
        ).scalar_one()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "tenant": slug,
            "email": f"admin@{slug}.test",
            "password": "correct horse battery",
        },
    )
    if response.status_code != 302:
        raise SystemExit(f"signing in failed: {response.status_code}")
    return client


def screen_ids(response: Any) -> list[str]:
    return re.findall(r'<a href="/o/Opportunity/([0-9a-f-]{36})">', response.get_data(as_text=True))


def check_same_rows(screen: Any, api_call: Any) -> None:
    shown = screen_ids(screen())
    listed = [row["id"] for row in api_call().get_json()["data"]]
    if shown != listed or len(listed) != 50:
        raise SystemExit(
            f"the screen and the API list different records: {shown[:3]} / {listed[:3]}"
        )
    expanded = api_call().get_json()["data"][0]["Account"]
    print(f"check: both list the same 50 records in order; a lookup comes as {sorted(expanded)}")


def percentile(samples: list[float], fraction: float) -> float:
    return where_bench.percentile(samples, fraction)


def report(title: str, timings: dict[str, list[float]], targets: bool) -> None:
    print(f"\n{title}")
    for name, samples in timings.items():
        print(
            f"  {name:7} p50 {statistics.median(samples):7.2f} ms   "
            f"p95 {percentile(samples, 0.95):7.2f} ms   ({len(samples)} requests)"
        )
    screen, json_api = timings["screen"], timings["api"]
    p50 = statistics.median(screen) / statistics.median(json_api)
    p95 = percentile(screen, 0.95) / percentile(json_api, 0.95)
    print(f"  screen/api: p50 {p50:.2f}x, p95 {p95:.2f}x")
    if targets:
        verdict = {True: "met", False: "MISSED"}
        fast = percentile(screen, 0.95) < P95_TARGET_MS
        print(
            f"  targets: within {RATIO_TARGET}x of the API: {verdict[p50 <= RATIO_TARGET]} at "
            f"p50, {verdict[p95 <= RATIO_TARGET]} at p95; screen p95 under "
            f"{P95_TARGET_MS:.0f} ms: {verdict[fast]}"
        )


def reused(app: Any) -> tuple[uuid.UUID, str]:
    """The tenant a kept run loaded, and a new token of its administrator."""
    import sqlalchemy as sa

    from trellis.actor import system_actor
    from trellis.identity.tokens import create_token

    database = app.extensions["trellis"].database
    with database.owner() as connection:
        tenant_id, slug, user_id = connection.execute(
            sa.text(
                "SELECT t.id, t.slug, u.id FROM tenants t JOIN users u ON u.tenant_id = t.id "
                "LIMIT 1"
            )
        ).one()
    with database.tenant(tenant_id) as connection:
        token, _ = create_token(
            connection, system_actor(tenant_id, slug), user_id=user_id, name="screens-bench"
        )
    print("setup: reusing the kept database", flush=True)
    return tenant_id, token


def measure(app: Any, tenant_id: uuid.UUID, token: str, args: argparse.Namespace) -> None:
    client, views = app.test_client(), "/api/v1/objects/Opportunity/list-views"
    kept = client.get(f"{views}/bench", headers={"Authorization": f"Bearer {token}"})
    if kept.status_code == 404:
        api(client, token, "POST", views, VIEW, 201)
    browser = signed_in_client(app, tenant_id)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    page = {
        "screen": lambda: browser.get(SCREEN),
        "api": lambda: client.get(API, query_string=API_QUERY, headers=headers),
    }
    for call in page.values():
        call()  # warm the metadata, statement, template and session caches
    check_same_rows(page["screen"], page["api"])
    timings = where_bench.time_requests(page, args.iterations, args.warmup)
    report(
        f"List page at {args.records:,} records (50 rows, a lookup expanded), server time "
        "through the Flask test client, sides alternating:",
        timings,
        targets=True,
    )
    count = {
        "screen": lambda: browser.get("/o/Opportunity/list/count?view=bench"),
        "api": lambda: client.get(
            API, query_string={**API_QUERY, "count": "true", "limit": "1"}, headers=headers
        ),
    }
    screen_total = count["screen"]().get_json()["total"]
    api_total = count["api"]().get_json()["total"]
    print(
        f"\ncheck: both count {screen_total:,} records"
        if screen_total == api_total
        else f"\nCOUNTS DIFFER: screen {screen_total}, api {api_total}"
    )
    timings = where_bench.time_requests(count, args.count_iterations, 2)
    report(
        "The count the screen fetches after the page, against the API's count=true:", timings, False
    )


def main() -> None:
    args = parse_args()
    app = where_bench.scratch_app(args, DATABASE, "screens-bench")
    try:
        if args.reuse:
            tenant_id, token = reused(app)
        else:
            tenant_id, token = where_bench.setup(app, args.records)
            add_accounts(app, tenant_id, token, args.accounts)
        measure(app, tenant_id, token, args)
    finally:
        where_bench.clean_up(app, args, DATABASE)


if __name__ == "__main__":
    main()
