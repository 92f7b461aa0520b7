"""The record page vs the JSON API answering the same data, in-process, at 1M records.

Run: ``python benchmarks/record_page_bench.py [--records 1000000] [--iterations 300]
[--keep]``. It needs PostgreSQL (user ``postgres``, trust) and Redis on 127.0.0.1, like
the tests.

What it does, all in one run, through Trellis itself:

1. creates a scratch database ``trellis_record_bench`` (dropped first) and loads N
   Opportunity records with the API benchmark's loader (``api_bench.setup``: tenant,
   admin, token, the object through ``MetadataService``, one ``INSERT … SELECT …
   generate_series``, its field indexes, ``VACUUM ANALYZE``);
2. creates Account (Name, Industry, Website), Contact and Task, each with an ``Account``
   lookup, through the metadata API, and adds an ``Account`` lookup to Opportunity;
   loads N / 100 accounts with three contacts and five tasks each, and points every
   opportunity at one of the accounts (100 each) with one UPDATE, with their
   ``record_refs`` rows; builds the lookups' indexes with ``build_pending_indexes`` and
   runs ``VACUUM ANALYZE``. Account has no layout, so its generated one has exactly
   three related lists: Contacts, Opportunities and Tasks, five rows each;
3. signs the administrator in through the login form (a browser session) and checks
   that the page and the API show the same rows;
4. times, alternating so that both see the same machine load, with one client:
   ``page``: ``GET /o/Account/<id>`` (the whole server side: session, shell, the
   record, the three related lists, names, remembering the view, rendering), and
   ``api``: the same data from the JSON API, the four requests a client makes for it
   (the record with the page's ``fields=`` and each related list with its filter,
   sort, limit, count and columns) one after the other, timed together;
5. prints p50/p95 of both, the ratio of the p50s and p95s (target: the page within
   1.5× of the API) and the page's p95 against 50 ms, and the statements per page;
   drops the database unless ``--keep``.

Nothing is asserted: it prints measured numbers and their ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import api_bench  # a sibling script: benchmarks/ is on sys.path when run as a script
import where_bench

DATABASE = "trellis_record_bench"
TARGET_RATIO, TARGET_P95_MS = 1.5, 50.0
CHILDREN_PER_ACCOUNT = {"Contact": 3, "Task": 5}
OPPORTUNITIES_PER_ACCOUNT = 100
ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "plural_label": "Accounts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Industry", "type": "picklist", "values": ["Retail", "Energy", "Media"]},
        {"api_name": "Website", "type": "url"},
    ],
}
LOOKUP = {"api_name": "Account", "type": "lookup", "target": "Account"}
CONTACT = {
    "api_name": "Contact",
    "label": "Contact",
    "plural_label": "Contacts",
    "fields": [
        {"api_name": "Name", "type": "text", "required": True},
        {"api_name": "Email", "type": "email"},
        {"api_name": "Phone", "type": "phone"},
        LOOKUP,
    ],
}
TASK = {
    "api_name": "Task",
    "label": "Task",
    "plural_label": "Tasks",
    "fields": [
        {"api_name": "Subject", "type": "text", "required": True},
        {"api_name": "DueDate", "type": "date"},
        {"api_name": "Status", "type": "picklist", "values": ["Open", "Done"]},
        LOOKUP,
    ],
}
ACCOUNTS_SQL = """
INSERT INTO records (tenant_id, object_id, data, owner_id, created_by, updated_by)
SELECT CAST(:tenant AS uuid), CAST(:object AS uuid),
       jsonb_build_object('Name', 'Account ' || g, 'Industry',
                          (ARRAY['Retail', 'Energy', 'Media'])[1 + g % 3],
                          'Website', 'https://account-' || g || '.example'),
       CAST(:user AS uuid), CAST(:user AS uuid), CAST(:user AS uuid)
FROM generate_series(1, :count) AS g
"""
CHILDREN_SQL = """
INSERT INTO records (tenant_id, object_id, data, owner_id, created_by, updated_by)
SELECT CAST(:tenant AS uuid), CAST(:object AS uuid),
       jsonb_build_object(CAST(:name_field AS text),
                          CAST(:prefix AS text) || n || ' of ' || (a.data->>'Name'),
                          'Account', a.id::text) || CAST(:extra AS jsonb),
       CAST(:user AS uuid), CAST(:user AS uuid), CAST(:user AS uuid)
FROM records a, generate_series(1, :each) AS n
WHERE a.tenant_id = CAST(:tenant AS uuid) AND a.object_id = CAST(:account_object AS uuid)
"""
# Every opportunity to one account, 100 each, by its place in id order.
LINK_SQL = """
WITH accounts AS (
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS position FROM records
  WHERE tenant_id = :tenant AND object_id = :account_object
), deals AS (
  SELECT id, (row_number() OVER (ORDER BY id) - 1) % :accounts AS position FROM records
  WHERE tenant_id = :tenant AND object_id = :deal_object
)
UPDATE records r SET data = r.data || jsonb_build_object('Account', a.id::text)
FROM deals d JOIN accounts a USING (position)
WHERE r.tenant_id = :tenant AND r.id = d.id
"""
REFS_SQL = """
INSERT INTO record_refs (tenant_id, source_id, field, target_id, source_object_id)
SELECT tenant_id, id, 'Account', (data->>'Account')::uuid, object_id FROM records
WHERE tenant_id = :tenant AND object_id = ANY(CAST(:objects AS uuid[]))
  AND data ? 'Account'
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="opportunities")
    parser.add_argument("--iterations", type=int, default=300, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=30)
    where_bench.add_scratch_arguments(parser)
    return parser.parse_args()


def step(message: str, started: float) -> None:
    print(f"setup: {message} ({time.perf_counter() - started:.1f} s)", flush=True)


def object_ids(database: Any, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    import sqlalchemy as sa

    with database.owner() as connection:
        rows = connection.execute(
            sa.text("SELECT api_name, id FROM meta_objects WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
        return {row.api_name: row.id for row in rows}


def add_accounts(app: Any, fixture: Any, records: int) -> uuid.UUID:
    """The objects around Opportunity, their records and indexes; one account's id."""
    import sqlalchemy as sa

    from trellis.metadata.indexes import build_pending_indexes

    started = time.perf_counter()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {fixture.token}"}
    for path, body in (
        ("/api/v1/meta/objects", ACCOUNT),
        ("/api/v1/meta/objects", CONTACT),
        ("/api/v1/meta/objects", TASK),
        ("/api/v1/meta/objects/Opportunity/fields", LOOKUP),
    ):
        response = client.post(path, json=body, headers=headers)
        if response.status_code >= 300:
            raise SystemExit(f"{path}: {response.get_data(as_text=True)}")
    database = app.extensions["trellis"].database
    ids = object_ids(database, fixture.tenant_id)
    accounts = max(1, records // OPPORTUNITIES_PER_ACCOUNT)
    common = {"tenant": str(fixture.tenant_id), "user": str(fixture.user_id)}
    extras = {
        "Contact": ("Name", "Contact ", '{"Email": "someone@example.com", "Phone": "+1 555 0100"}'),
        "Task": ("Subject", "Call ", '{"DueDate": "2026-06-01", "Status": "Open"}'),
    }
    with database.owner() as connection:
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        connection.execute(
            sa.text(ACCOUNTS_SQL), {**common, "object": str(ids["Account"]), "count": accounts}
        )
        for name, each in CHILDREN_PER_ACCOUNT.items():
            name_field, prefix, extra = extras[name]
            connection.execute(
                sa.text(CHILDREN_SQL),
                {
                    **common,
                    "object": str(ids[name]),
                    "account_object": str(ids["Account"]),
                    "each": each,
                    "name_field": name_field,
                    "prefix": prefix,
                    "extra": extra,
                },
            )
        connection.execute(
            sa.text(LINK_SQL),
            {
                "tenant": fixture.tenant_id,
                "account_object": ids["Account"],
                "deal_object": ids["Opportunity"],
                "accounts": accounts,
            },
        )
        children = [str(ids[name]) for name in ("Opportunity", "Contact", "Task")]
        connection.execute(sa.text(REFS_SQL), {"tenant": fixture.tenant_id, "objects": children})
    step(
        f"{accounts:,} accounts, {sum(CHILDREN_PER_ACCOUNT.values())} contacts and tasks each, "
        f"{OPPORTUNITIES_PER_ACCOUNT} opportunities each, their record_refs",
        started,
    )
    started = time.perf_counter()
    built = build_pending_indexes(database.owner_engine, fixture.tenant_id)
    if set(built.values()) != {"ready"}:
        raise SystemExit(f"index build failed: {built}")
    with database.owner_engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.execute(sa.text("VACUUM ANALYZE records, record_refs"))
        middle = connection.execute(
            sa.text(
                "SELECT id FROM records WHERE tenant_id = :t AND object_id = :o "
                "ORDER BY id OFFSET :n LIMIT 1"
            ),
            {"t": fixture.tenant_id, "o": ids["Account"], "n": accounts // 2},
        ).scalar_one()
    step(f"built {len(built)} more field indexes (the lookups), VACUUM ANALYZE", started)
    return middle


def sign_in(app: Any) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "tenant": "bench",
            "email": "admin@bench.test",
            "password": "correct horse battery",
        },
    )
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: {response.status_code}")
    return client


def api_requests(app: Any, fixture: Any, account_id: uuid.UUID) -> list[str]:
    """The API requests that answer what the page shows: the record with the page's
    fields, and each related list as the page reads it."""
    from trellis.access.gate import Access
    from trellis.actor import system_actor
    from trellis.metadata.layouts import layout_of
    from trellis.views.record_layout import projection_paths, shown_fields

    state = app.extensions["trellis"]
    with state.database.tenant(fixture.tenant_id) as connection:
        schema = state.metadata_cache.get(connection, fixture.tenant_id)
    access = Access.of(system_actor(fixture.tenant_id, "bench"), schema)
    account = schema.object("Account")
    layout = layout_of(schema, account)
    fields = ",".join(projection_paths(schema, account, access, shown_fields(layout)))
    paths = [f"/api/v1/objects/Account/records/{account_id}?fields={fields}"]
    for related in layout.tabs[0].related_lists:
        columns = ",".join(projection_paths(schema, related.object, access, list(related.columns)))
        paths.append(
            f"/api/v1/objects/{related.object.api_name}/records?{related.lookup.api_name}="
            f"{account_id}&sort={related.sort}&limit={related.limit}&count=true&fields={columns}"
        )
    return paths


def check_same_rows(page_html: str, api_bodies: list[dict[str, Any]]) -> None:
    """Every related row's id the API returns is linked from the page."""
    for body in api_bodies[1:]:
        for row in body["data"]:
            if row["id"] not in page_html:
                raise SystemExit(f"the page lacks related record {row['id']}")
    if api_bodies[0]["id"] not in page_html:
        raise SystemExit("the page lacks the record")


def count_statements(app: Any, call: Any) -> int:
    import sqlalchemy as sa

    engine = app.extensions["trellis"].database.engine
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return len(seen)


def measure(app: Any, fixture: Any, account_id: uuid.UUID, args: argparse.Namespace) -> None:
    browser = sign_in(app)
    api_client = app.test_client()
    headers = {"Authorization": f"Bearer {fixture.token}"}
    paths = api_requests(app, fixture, account_id)
    page_path = f"/o/Account/{account_id}"

    def page() -> Any:
        response = browser.get(page_path)
        if response.status_code != 200:
            raise SystemExit(f"page: HTTP {response.status_code}")
        return response

    def api() -> list[Any]:
        responses = [api_client.get(path, headers=headers) for path in paths]
        for response in responses:
            if response.status_code != 200:
                raise SystemExit(f"api: HTTP {response.status_code} {response.get_data()[:300]}")
        return responses

    check_same_rows(page().get_data(as_text=True), [r.get_json() for r in api()])
    statements = {"page": count_statements(app, page), "api": count_statements(app, api)}
    timings: dict[str, list[float]] = {"page": [], "api": []}
    for round_number in range(args.warmup + args.iterations):
        for name, call in (("page", page), ("api", api)):
            started = time.perf_counter()
            call()
            elapsed = (time.perf_counter() - started) * 1000
            if round_number >= args.warmup:
                timings[name].append(elapsed)
    report(timings, statements, len(paths), args)


def report(
    timings: dict[str, list[float]],
    statements: dict[str, int],
    requests: int,
    args: argparse.Namespace,
) -> None:
    p50 = {name: statistics.median(samples) for name, samples in timings.items()}
    p95 = {name: where_bench.percentile(samples, 0.95) for name, samples in timings.items()}
    print()
    print(
        f"Record page with three related lists, {args.records:,} opportunities, "
        f"{args.iterations} rounds, one client (in-process, Flask test client)"
    )
    print(f"{'':28}{'p50 ms':>10}{'p95 ms':>10}{'statements':>12}")
    print(
        f"{'page  GET /o/Account/<id>':28}{p50['page']:>10.2f}{p95['page']:>10.2f}"
        f"{statements['page']:>12}"
    )
    print(
        f"{f'api   {requests} requests, total':28}{p50['api']:>10.2f}{p95['api']:>10.2f}"
        f"{statements['api']:>12}"
    )
    ratio50, ratio95 = p50["page"] / p50["api"], p95["page"] / p95["api"]
    print(
        f"ratio page / api: p50 {ratio50:.2f}x, p95 {ratio95:.2f}x (target within "
        f"{TARGET_RATIO}x: {'met' if ratio50 <= TARGET_RATIO else 'NOT met'})"
    )
    verdict = "met" if p95["page"] < TARGET_P95_MS else "NOT met"
    print(f"page p95 {p95['page']:.2f} ms (target under {TARGET_P95_MS:.0f} ms: {verdict})")


def main() -> None:
    args = parse_args()
    from trellis.config import load_config
    from trellis.runtime.app import create_app

    print(
        f"record_page_bench: {args.records:,} records, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{value:.2f}' for value in os.getloadavg())}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="trellis-record-bench-"))
    namespace = f"trellis-record-bench-{os.getpid()}"
    url = api_bench.create_database(args.server_url, DATABASE)
    app = None
    try:
        settings = api_bench.trellis_settings(
            url, args.redis_url, namespace, str(work / "instance"), pool_size=4
        )
        app = create_app(load_config(settings, environ={}))
        fixture = api_bench.setup(app, url, args.records, index_first=False)
        account_id = add_accounts(app, fixture, args.records)
        measure(app, fixture, account_id, args)
    finally:
        if app is not None:
            app.extensions["trellis"].database.dispose()
        api_bench.delete_redis_namespace(args.redis_url, namespace)
        if not args.keep:
            api_bench.drop_database(args.server_url, DATABASE)


if __name__ == "__main__":
    main()
