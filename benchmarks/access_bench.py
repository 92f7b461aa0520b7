"""List pages under a private org-wide default vs an administrator's unrestricted page,
and the full share recomputation after a sharing rule changes.

Run: ``python benchmarks/access_bench.py [--records 1000000] [--iterations 200] [--keep]``.
It needs PostgreSQL (user ``postgres``, trust) and Redis on 127.0.0.1, like the tests.

What it does, all in one run, through Trellis itself:

1. creates a scratch database ``trellis_access_bench`` (dropped first), builds a Trellis
   app on it, applies the migrations, creates a tenant, an admin and an API token, and
   creates the Opportunity object of the other benchmarks with ``sharing_model:
   private`` through the metadata API;
2. builds a five-level role hierarchy through the roles API (ceo > vp ×2 > director ×2
   each > manager ×2 each > rep ×3 each: 39 roles), creates 100 users (one per role,
   the other 61 spread over the rep roles) with ``create_user``, sets their roles with
   one UPDATE and rebuilds the closure with ``rebuild_closure``; creates two groups
   through the groups API;
3. loads N records with one ``INSERT … SELECT … generate_series`` (the where benchmark's
   data, owners drawn at random from the 100 users, creation times one second apart),
   builds the field indexes with ``build_pending_indexes``, adds 10,000 manual shares
   to random users with one INSERT … SELECT and runs ``ANALYZE``;
4. PUTs the three sharing rules (see ``RULES``) through the sharing API and times
   ``run_pending``, the recompute job that computes their shares; ``VACUUM ANALYZE``;
5. times ``GET /api/v1/objects/Opportunity/records?limit=50`` (default sort
   ``-created_at``), the same with ``count=true``, and with the where benchmark's
   ``where=`` filter (sorted by ``-Amount``), through the Flask test client as the
   where benchmark does, for the admin, a rep at the bottom, a manager in the middle and
   the ceo (who reaches every record through the hierarchy but is no admin), the users
   alternating so that they share the machine's load; prints p50/p95 and each p50 as a
   ratio to the admin's (target: within 1.5×);
6. prints the ``EXPLAIN (ANALYZE, BUFFERS)`` execution time of each captured page query
   as the app runs it (tenant scope, ``index_friendly_reads``) and, with ``--plans``,
   the plans;
7. changes the criteria rule through the sharing API and times ``run_pending`` again:
   records per second and shares written; drops the database unless ``--keep``.

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
from where_bench import step

DATABASE = "trellis_access_bench"
OBJECT = {**where_bench.OBJECT, "sharing_model": "private"}
PAGE = "/api/v1/objects/Opportunity/records"
SHARING = "/api/v1/meta/sharing-rules/Opportunity"
USERS = 100
MANUAL_SHARES = 10_000
TARGET = 1.5
# Who is timed: the tenant admin and three users by their role.
MEASURED = {"admin": None, "rep": "rep_1_1_1_1", "manager": "manager_1_1_1", "ceo": "ceo"}
QUERIES = {
    "page": {"limit": "50"},
    "count": {"limit": "50", "count": "true"},
    "where": where_bench.WHERE_QUERY,
}
GROUPS = [
    # Big deals go to a manager of the timed branch and the whole of the second vp's tree.
    {
        "api_name": "big_deals",
        "label": "Big deals",
        "members": [
            {"kind": "role", "member": "manager_1_1_1"},
            {"kind": "role_and_subordinates", "member": "vp_2"},
        ],
    },
    # A group of role members: the timed rep's role and one rep role in each other vp tree.
    {
        "api_name": "sales_ops",
        "label": "Sales operations",
        "members": [
            {"kind": "role", "member": "rep_1_1_1_1"},
            {"kind": "role", "member": "rep_2_1_1_1"},
        ],
    },
]


def rules(criteria: str) -> list[dict[str, Any]]:
    """One owner rule between director subtrees, one criteria rule to a group, one owner
    rule to a group of role members."""
    return [
        {
            "name": "director_1_1_to_2_1",
            "owned_by": {"role": "director_1_1", "subordinates": True},
            "share_with": {"role": "director_2_1", "subordinates": True},
            "access": "read",
        },
        {
            "name": "big_deals",
            "criteria": criteria,
            "share_with": {"group": "big_deals"},
            "access": "read_write",
        },
        {
            "name": "rep_2_2_2_3_to_ops",
            "owned_by": {"role": "rep_2_2_2_3"},
            "share_with": {"group": "sales_ops"},
            "access": "read",
        },
    ]


# Amounts are log-uniform from 1 to 500,000: about 5 % are above 250,000, 12 % above 100,000.
CRITERIA, CHANGED_CRITERIA = "Amount > 250000", "Amount > 100000"

# The where benchmark's data, with owners drawn from the users and distinct creation
# times (one second apart, the newest now), so the default sort has no ties.
LOAD_SQL = """
INSERT INTO records (tenant_id, object_id, data, owner_id, created_at, created_by, updated_by)
SELECT CAST(:tenant AS uuid), CAST(:object AS uuid),
       jsonb_strip_nulls(jsonb_build_object(
         'Name', 'Deal ' || g,
         'Amount', CASE WHEN r1 < 0.03 THEN NULL
                        ELSE round(CAST(exp(r2 * ln(500000)) AS numeric), 2)::float8 END,
         'Stage', CASE WHEN r3 < 0.40 THEN 'Prospecting' WHEN r3 < 0.65 THEN 'Negotiation'
                       WHEN r3 < 0.80 THEN 'Closed Won' ELSE 'Closed Lost' END,
         'CloseDate', to_char(DATE '2024-01-01' + CAST(r4 * 1095 AS int), 'YYYY-MM-DD'))),
       owner, now() - (:count - g) * interval '1 second', owner, owner
FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
             (CAST(:owners AS uuid[]))[1 + floor(random() * :owner_count)::int] AS owner
      FROM generate_series(1, :count) AS g) AS generated
"""
MANUAL_SQL = """
INSERT INTO record_shares (tenant_id, record_id, principal, cause, object_id, access, created_by)
SELECT r.tenant_id, r.id,
       'user:' || (CAST(:users AS text[]))[1 + floor(random() * :user_count)::int],
       'manual', r.object_id, CASE WHEN random() < 0.3 THEN 2 ELSE 1 END, CAST(:admin AS uuid)
FROM records r WHERE r.tenant_id = :tenant AND r.object_id = :object
ORDER BY random() LIMIT :shares
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--iterations", type=int, default=200, help="timed page and where= requests per user"
    )
    parser.add_argument(
        "--count-iterations", type=int, default=15, help="timed count=true requests per user"
    )
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--explain-runs", type=int, default=3)
    parser.add_argument("--plans", action="store_true", help="print every EXPLAIN plan")
    where_bench.add_scratch_arguments(parser)
    return parser.parse_args()


# -- setup ------------------------------------------------------------------------------
def role_tree() -> list[tuple[str, str | None]]:
    """(role, parent), parents first: ceo, vp_1, director_1_1, manager_1_1_1, rep_1_1_1_1…"""
    tree: list[tuple[str, str | None]] = [("ceo", None)]
    level = [("ceo", "")]
    for title, fanout in (("vp", 2), ("director", 2), ("manager", 2), ("rep", 3)):
        below = []
        for parent, suffix in level:
            for number in range(1, fanout + 1):
                name = f"{title}{suffix}_{number}"
                tree.append((name, parent))
                below.append((name, f"{suffix}_{number}"))
        level = below
    return tree


def user_roles() -> list[str]:
    """A role per user: one user per role, the rest spread over the rep roles."""
    names = [name for name, _ in role_tree()]
    reps = [name for name in names if name.startswith("rep_")]
    return names + [reps[index % len(reps)] for index in range(USERS - len(names))]


def api(client: Any, token: str, method: str, path: str, body: Any, expect: int) -> Any:
    response = client.open(
        path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != expect:
        raise SystemExit(f"{method} {path}: {response.get_data(as_text=True)}")
    return response.get_json()


def create_people(app: Any, tenant_id: uuid.UUID, actor: Any, admin_token: str) -> dict:
    """Roles, users, the closure and the groups; the timed users' tokens by name."""
    import sqlalchemy as sa

    from trellis.access.principals import rebuild_closure
    from trellis.identity.tokens import create_token
    from trellis.identity.users import create_user

    state = app.extensions["trellis"]
    client = app.test_client()
    for name, parent in role_tree():
        body = {"api_name": name, "label": name, "parent": parent}
        api(client, admin_token, "POST", "/api/v1/meta/roles", body, 201)
    roles = user_roles()
    with state.database.tenant(tenant_id) as connection:
        ids = [
            create_user(connection, actor, email=f"u{n}@bench.test", password=None).id
            for n in range(len(roles))
        ]
        connection.execute(
            sa.text(
                "UPDATE users SET role = assigned.role FROM unnest("
                "CAST(:ids AS uuid[]), CAST(:roles AS text[])) AS assigned(id, role) "
                "WHERE users.id = assigned.id"
            ),
            {"ids": [str(i) for i in ids], "roles": roles},
        )
        rebuild_closure(
            connection, tenant_id, state.metadata_cache.get(connection, tenant_id).access
        )
        tokens = {"admin": admin_token}
        for label, role in MEASURED.items():
            if role is not None:
                user_id = ids[roles.index(role)]
                tokens[label], _ = create_token(connection, actor, user_id=user_id, name=label)
    for group in GROUPS:
        api(client, admin_token, "POST", "/api/v1/groups", group, 201)
    return {"tokens": tokens, "owners": ids}


def load(app: Any, tenant_id: uuid.UUID, people: dict, admin_id: uuid.UUID, records: int) -> None:
    import sqlalchemy as sa

    from trellis.metadata.indexes import build_pending_indexes

    database = app.extensions["trellis"].database
    with database.owner() as connection:
        object_id = connection.execute(
            sa.text("SELECT id FROM meta_objects WHERE tenant_id = :t AND api_name = :o"),
            {"t": tenant_id, "o": OBJECT["api_name"]},
        ).scalar_one()
    started = time.perf_counter()
    owners = [str(owner) for owner in people["owners"]]
    values = {"tenant": str(tenant_id), "object": str(object_id), "count": records}
    with database.owner() as connection:
        connection.execute(sa.text(LOAD_SQL), {**values, "owners": owners, "owner_count": USERS})
    step(f"loaded {records:,} records owned by {USERS} users with one INSERT … SELECT", started)
    started = time.perf_counter()
    built = build_pending_indexes(database.owner_engine, tenant_id)
    if sorted(built.values()) != ["ready", "ready"]:
        raise SystemExit(f"index build failed: {built}")
    with database.owner() as connection:
        shares = {"users": owners, "user_count": USERS, "shares": MANUAL_SHARES}
        connection.execute(sa.text(MANUAL_SQL), {**values, **shares, "admin": str(admin_id)})
        # What autovacuum would do after a load this size (the test server runs without it):
        # the recompute job's statements are planned from these statistics.
        connection.execute(sa.text("ANALYZE records, record_shares"))
    step(
        f"built {len(built)} field indexes, added {MANUAL_SHARES:,} manual shares, ANALYZE",
        started,
    )


def recompute(app: Any, token: str, criteria: str) -> dict[str, Any]:
    """PUT the rules with ``criteria`` and time the recompute job that follows."""
    import sqlalchemy as sa

    from trellis.access.recompute import run_pending

    state = app.extensions["trellis"]
    body = {"sharing_model": "private", "sharing_rules": rules(criteria)}
    api(app.test_client(), token, "PUT", SHARING, body, 200)
    started = time.perf_counter()
    finished = run_pending(state.database, state.metadata_cache)
    elapsed = time.perf_counter() - started
    with state.database.owner() as connection:
        job = connection.execute(
            sa.text("SELECT status, done, shares FROM share_recomputes ORDER BY id DESC LIMIT 1")
        ).one()
        counted = connection.execute(
            sa.text("SELECT cause, count(*) FROM record_shares GROUP BY 1")
        )
        by_cause = dict(list(counted))
    if finished != 1 or job.status != "done":
        raise SystemExit(f"recompute: {finished} jobs finished, last {job.status}")
    return {"seconds": elapsed, "records": job.done, "shares": job.shares, "by_cause": by_cause}


def setup(app: Any, records: int) -> tuple[uuid.UUID, dict[str, str], dict[str, Any]]:
    """Migrate; tenant, admin, object, people, records, manual and rule shares."""
    import sqlalchemy as sa

    from trellis.actor import system_actor
    from trellis.identity.tenants import create_tenant
    from trellis.identity.tokens import create_token
    from trellis.identity.users import create_user
    from trellis.runtime.migrate import upgrade

    database = app.extensions["trellis"].database
    started = time.perf_counter()
    upgrade(database)
    slug = f"ab-{uuid.uuid4().hex[:12]}"
    with database.owner() as connection:
        tenant = create_tenant(connection, slug, f"Tenant {slug}")
    actor = system_actor(tenant.id, slug)
    with database.tenant(tenant.id) as connection:
        admin = create_user(
            connection, actor, email=f"admin@{slug}.test", password=None, roles=["admin"]
        )
        token, _ = create_token(connection, actor, user_id=admin.id, name="access-bench")
    api(app.test_client(), token, "POST", "/api/v1/meta/objects", OBJECT, 201)
    people = create_people(app, tenant.id, actor, token)
    step(f"migrated; tenant, object, {len(role_tree())} roles, {USERS} users, 2 groups", started)
    load(app, tenant.id, people, admin.id, records)
    initial = recompute(app, token, CRITERIA)
    print(
        f"setup: run_pending computed {initial['shares']:,} rule shares in "
        f"{initial['seconds']:.1f} s",
        flush=True,
    )
    started = time.perf_counter()
    with database.owner_engine.connect().execution_options(
        isolation_level="AUTOCOMMIT"
    ) as connection:
        connection.execute(sa.text("VACUUM ANALYZE records, record_shares, access_closure"))
    step("VACUUM ANALYZE ran", started)
    return tenant.id, people["tokens"], initial


# -- measuring --------------------------------------------------------------------------
def time_variants(calls: dict[tuple[str, str], Any], args: argparse.Namespace) -> dict:
    """Milliseconds per request per (user, query); users alternate within each query."""
    timings: dict[tuple[str, str], list[float]] = {}
    for query in QUERIES:
        # A restricted count takes seconds: fewer rounds, and a short warm-up.
        rounds, warmup = (
            (args.count_iterations, min(args.warmup, 2))
            if query == "count"
            else (args.iterations, args.warmup)
        )
        subset = {key: call for key, call in calls.items() if key[1] == query}
        timings.update(where_bench.time_requests(subset, rounds, warmup))
    return timings


def report_latency(timings: dict, totals: dict[str, int], records: int) -> None:
    print()
    print(
        f"List pages at {records:,} records through the Flask test client (users alternating; "
        f"target: within {TARGET}x of the admin's p50):"
    )
    for label in MEASURED:
        reach = totals[label]
        print(f"  {label:8} reaches {reach:>10,} records ({100 * reach / records:5.1f} %)")
    for query in QUERIES:
        admin_p50 = statistics.median(timings[("admin", query)])
        print(f"  {query}:")
        for label in MEASURED:
            samples = timings[(label, query)]
            p50, p95 = statistics.median(samples), where_bench.percentile(samples, 0.95)
            print(
                f"    {label:8} p50 {p50:8.2f} ms   p95 {p95:8.2f}"
                f" ms   ({len(samples)} requests)   {p50 / admin_p50:6.2f}x admin"
            )


def report_explain(explained: dict, show_plans: bool) -> None:
    print()
    print("EXPLAIN (ANALYZE, BUFFERS) execution time as the app runs each page query (median):")
    for (label, query), (times, _) in explained.items():
        print(f"  {query:6} {label:8} {statistics.median(times):9.3f} ms")
    if not show_plans:
        return
    for (label, query), (_, plan) in explained.items():
        print()
        print(f"  plan of {query} as {label}:")
        for line in plan:
            print("    " + re.sub(r"  \(cost=[^)]*\)", "", line))


def report_recompute(name: str, figures: dict[str, Any]) -> None:
    seconds, done = figures["seconds"], figures["records"]
    print(
        f"  {name:28} {seconds:7.1f} s   {done / seconds:9,.0f} records/s   "
        f"{figures['shares']:>9,} shares written"
    )


def measure(app: Any, tenant_id: uuid.UUID, tokens: dict[str, str], args: argparse.Namespace):
    client = app.test_client()

    def call(label: str, query: str) -> Any:
        headers = {"Authorization": f"Bearer {tokens[label]}"}
        return lambda: client.get(PAGE, query_string=QUERIES[query], headers=headers)

    calls = {(label, query): call(label, query) for query in QUERIES for label in MEASURED}
    captured, totals = {}, {}
    for key, run in calls.items():
        run()  # warm the metadata, formula, statement and token caches
        response, captured[key] = where_bench.capture_page_sql(app, run)
        if key[1] == "count":
            totals[key[0]] = response.get_json()["total"]
    if totals["ceo"] != totals["admin"]:
        print(f"CHECK FAILED: the ceo counts {totals['ceo']:,}, the admin {totals['admin']:,}")
    timings = time_variants(calls, args)
    explained = {
        key: where_bench.explain(app, tenant_id, q, args.explain_runs, options="ANALYZE, BUFFERS")
        for key, q in captured.items()
    }
    return timings, totals, explained


def main() -> None:
    args = parse_args()
    import sqlalchemy as sa

    where_bench.admin_execute(args.server_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    where_bench.admin_execute(args.server_url, f'CREATE DATABASE "{DATABASE}"')
    url = sa.make_url(args.server_url).set(database=DATABASE).render_as_string(hide_password=False)
    app = where_bench.create_app(url, args.redis_url, "access-bench")
    try:
        tenant_id, tokens, initial = setup(app, args.records)
        timings, totals, explained = measure(app, tenant_id, tokens, args)
        changed = recompute(app, tokens["admin"], CHANGED_CRITERIA)
        report_latency(timings, totals, args.records)
        report_explain(explained, args.plans)
        print()
        print(f"Share recomputation (run_pending, {args.records:,} records, 3 rules):")
        report_recompute(f"first computation ({CRITERIA})", initial)
        report_recompute(f"after a change ({CHANGED_CRITERIA})", changed)
        shares = ", ".join(
            f"{cause} {count:,}" for cause, count in sorted(changed["by_cause"].items())
        )
        print(f"  shares afterwards: {shares}")
    finally:
        where_bench.clean_up(app, args, DATABASE)


if __name__ == "__main__":
    main()
