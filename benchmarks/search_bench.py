"""Global search at 1M records vs a hand-written tsvector query on the same table.

Run: ``python benchmarks/search_bench.py [--records 1000000] [--iterations 100] [--keep]``.
It needs PostgreSQL (user ``postgres``, trust) and Redis on 127.0.0.1, like the tests.

What it does, all in one run, through Trellis itself:

1. creates a scratch database ``trellis_search_bench`` (dropped first) and loads the
   where benchmark's data with its loader (``where_bench.setup``: the Opportunity object,
   N records named ``Deal <n>``, ``VACUUM ANALYZE``);
2. adds a long text field Notes (metadata API), makes Opportunity private (each user
   reads their own and what is shared with them), gives a sales rep 1 % of the records,
   and writes eight words into every record's Notes (one ``UPDATE``): ``w<k>`` with
   ``k`` log-uniform over 1..20,000, so ``w3`` is in about 30 % of the records, ``w150``
   in about 0.5 % and ``w15000`` in a few dozen;
3. writes the search rows of Name, Stage and Notes the way the records service does
   (one ``INSERT … SELECT``; the triggers of migration 0017 write their words), with
   the GIN index and the words' B-tree dropped during the load and built after it,
   then ``VACUUM ANALYZE``;
4. times, for each query, three sides alternating so that they share the machine's
   load: ``api`` is ``GET /api/v1/search?q=…`` for the administrator through the Flask
   test client (routing, authentication, the service, the JSON); ``rep`` is the same
   for the rep, through the access gate of a private object; ``baseline`` is one
   hand-written statement on a psycopg connection: the best 11 records of the object
   whose terms match, ranked by ``ts_rank``, without the gate, field-level security or
   grouping per record. Each prints p50/p95 (one client) and the ratio api/baseline;
5. drops the database unless ``--keep``; ``--reuse`` measures again on a kept one.

Nothing is asserted: it prints measured numbers and their ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

import screens_bench  # sibling scripts: benchmarks/ is on sys.path when run as a script
import where_bench

DATABASE = "trellis_search_bench"
# Dropped while the search rows (and, by trigger, their words) are loaded, built after.
WORDS_KEY = "pk_search_words"
NOTES = {"api_name": "Notes", "label": "Notes", "type": "long_text"}
QUERIES = {
    "rare word": "w15000",
    "medium word": "w150",
    "common word": "w3",
    "two words": "w150 w151",
    "name prefix": "deal 12345",
    "type-ahead prefix": "w123",
}
NOTES_SQL = """
UPDATE records SET data = data || jsonb_build_object('Notes', (
  SELECT string_agg('w' || floor(exp(random() * ln(20000)))::int, ' ')
  FROM generate_series(1, 8) AS word WHERE records.id IS NOT NULL)),
  owner_id = CASE WHEN abs(hashtext(id::text)) % 100 = 0 THEN CAST(:rep AS uuid)
                  ELSE owner_id END
WHERE tenant_id = CAST(:tenant AS uuid) AND object_id = CAST(:object AS uuid)
"""
# The words as trellis.records.search_terms.words_of splits them (the generated values
# are ASCII letters, digits and spaces, so lower() is all it takes).
TERMS_SQL = """
INSERT INTO search_terms (tenant_id, record_id, field, object_id, terms)
SELECT r.tenant_id, r.id, f.field, r.object_id, to_tsvector('simple', lower(r.data->>f.field))
FROM records r CROSS JOIN (VALUES ('Name'), ('Stage'), ('Notes')) AS f(field)
WHERE r.tenant_id = CAST(:tenant AS uuid) AND r.object_id = CAST(:object AS uuid)
  AND r.data ? f.field
"""
BASELINE_SQL = """
SELECT r.id, r.data->>'Name' AS name, ts_rank(t.terms, q.query) AS rank
FROM search_terms t JOIN records r ON r.tenant_id = t.tenant_id AND r.id = t.record_id,
     to_tsquery('simple', %(query)s) AS q(query)
WHERE t.tenant_id = %(tenant)s AND t.object_id = %(object)s AND t.terms @@ q.query
  AND r.deleted_at IS NULL
ORDER BY rank DESC, r.id LIMIT 11
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=100, help="timed searches per side")
    parser.add_argument("--warmup", type=int, default=5)
    where_bench.add_scratch_arguments(parser)
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on a kept database (implies --keep)"
    )
    return parser.parse_args()


def prepare(app: Any, tenant_id: uuid.UUID, token: str) -> tuple[str, uuid.UUID]:
    """Notes, the private model, the rep and their records, and every search row; the
    rep's token and the object's id."""
    import sqlalchemy as sa

    from trellis.actor import system_actor
    from trellis.identity.tokens import create_token

    client = app.test_client()
    screens_bench.api(client, token, "POST", "/api/v1/meta/objects/Opportunity/fields", NOTES, 201)
    definition = screens_bench.api(
        client, token, "GET", "/api/v1/meta/objects/Opportunity", None, 200
    )
    # What GET adds (the id, each field's index state) is not part of a definition.
    definition = {key: value for key, value in definition.items() if key != "id"}
    definition["fields"] = [
        {key: value for key, value in field.items() if key != "index"}
        for field in definition["fields"]
    ]
    definition["sharing_model"] = "private"
    screens_bench.api(client, token, "PUT", "/api/v1/meta/objects/Opportunity", definition, 200)
    rights = {"read": True, "create": True, "edit": True}
    body = {
        "api_name": "sales",
        "label": "Sales",
        "system": ["api"],
        "objects": {"Opportunity": rights},
    }
    screens_bench.api(client, token, "POST", "/api/v1/meta/permission-sets", body, 201)
    database = app.extensions["trellis"].database
    with database.owner() as connection:
        slug = connection.execute(
            sa.text("SELECT slug FROM tenants WHERE id = :t"), {"t": tenant_id}
        ).scalar_one()
    user = {"email": f"rep@{slug}.test", "password": "correct horse battery"}
    rep = screens_bench.api(
        client, token, "POST", "/api/v1/users", {**user, "permission_sets": ["sales"]}, 201
    )
    with database.tenant(tenant_id) as connection:
        actor = system_actor(tenant_id, slug)
        rep_token, _ = create_token(
            connection, actor, user_id=uuid.UUID(rep["id"]), name="search-bench"
        )
    started = time.perf_counter()
    with database.owner() as connection:
        object_id = connection.execute(
            sa.text(
                "SELECT id FROM meta_objects WHERE tenant_id = :t AND api_name = 'Opportunity'"
            ),
            {"t": tenant_id},
        ).scalar_one()
        values = {"tenant": str(tenant_id), "object": str(object_id)}
        connection.execute(sa.text(NOTES_SQL), {**values, "rep": rep["id"]})
        where_bench.step("eight words of Notes per record, 1 % to the rep", started)
        started = time.perf_counter()
        connection.execute(sa.text("DROP INDEX ix_search_terms"))
        connection.execute(sa.text(f"ALTER TABLE search_words DROP CONSTRAINT {WORDS_KEY}"))
        connection.execute(sa.text(TERMS_SQL), values)
        where_bench.step("search rows of Name, Stage and Notes and their words written", started)
        started = time.perf_counter()
        connection.execute(
            sa.text("CREATE INDEX ix_search_terms ON search_terms USING gin (object_id, terms)")
        )
        connection.execute(
            sa.text(
                f"ALTER TABLE search_words ADD CONSTRAINT {WORDS_KEY} "
                "PRIMARY KEY (tenant_id, object_id, word, record_id, field)"
            )
        )
        where_bench.step("GIN index (object_id, terms) and the words' B-tree built", started)
    with database.owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE records"))
        conn.execute(sa.text("VACUUM ANALYZE search_terms"))
        conn.execute(sa.text("VACUUM ANALYZE search_words"))
        size = conn.execute(
            sa.text(
                "SELECT count(*), pg_size_pretty(pg_total_relation_size('search_terms')), "
                "pg_size_pretty(pg_relation_size('ix_search_terms')), "
                "pg_size_pretty(pg_total_relation_size('search_words')) FROM search_terms"
            )
        ).one()
    print(
        f"setup: {size[0]:,} search rows, {size[1]} with indexes, GIN {size[2]}; "
        f"their words {size[3]} with their B-tree",
        flush=True,
    )
    return rep_token, object_id


def reused(app: Any) -> tuple[uuid.UUID, str, str, uuid.UUID]:
    """The tenant, administrator token, rep token and object of a kept run, its schema
    brought up to date first (a migration since is applied to the kept rows)."""
    import sqlalchemy as sa

    from trellis.actor import system_actor
    from trellis.identity.tokens import create_token
    from trellis.runtime.migrate import upgrade

    database = app.extensions["trellis"].database
    upgrade(database)
    with database.owner() as connection:
        tenant_id, slug, object_id = connection.execute(
            sa.text(
                "SELECT t.id, t.slug, o.id FROM tenants t JOIN meta_objects o "
                "ON o.tenant_id = t.id AND o.api_name = 'Opportunity' LIMIT 1"
            )
        ).one()
        users = dict(
            connection.execute(
                sa.text("SELECT email, id FROM users WHERE tenant_id = :t"), {"t": tenant_id}
            ).all()
        )
    tokens = []
    with database.tenant(tenant_id) as connection:
        actor = system_actor(tenant_id, slug)
        for email in sorted(users, key=lambda email: email.startswith("rep@")):
            token, _ = create_token(connection, actor, user_id=users[email], name="search-bench")
            tokens.append(token)
    print("setup: reusing the kept database", flush=True)
    return tenant_id, tokens[0], tokens[-1], object_id


def measure(
    app: Any,
    tenant_id: uuid.UUID,
    tokens: dict[str, str],
    object_id: uuid.UUID,
    args: argparse.Namespace,
) -> None:
    import psycopg
    import sqlalchemy as sa

    client = app.test_client()
    url = sa.make_url(args.server_url).set(drivername="postgresql", database=DATABASE)
    baseline = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    print(
        f"\nSearch at {args.records:,} records, one client, server time; api and rep through "
        "the Flask test client, baseline one psycopg statement; sides alternating:"
    )
    for title, text in QUERIES.items():
        words = text.split()
        query = " & ".join(f"{word}:*" for word in words)
        sides = {
            name: (lambda token=token, text=text: _api(client, token, text))
            for name, token in tokens.items()
        }
        parameters = {"query": query, "tenant": tenant_id, "object": object_id}
        sides["baseline"] = lambda parameters=parameters: len(
            baseline.execute(BASELINE_SQL, parameters).fetchall()
        )
        found = {name: call() for name, call in sides.items()}
        timings = _time(sides, args.iterations, args.warmup)
        counts = ", ".join(f"{name} {count}" for name, count in found.items())
        print(f"\n  {title} ({text!r}; first page: {counts})")
        for name, samples in timings.items():
            print(
                f"    {name:8} p50 {statistics.median(samples):8.2f} ms   "
                f"p95 {where_bench.percentile(samples, 0.95):8.2f} ms"
            )
        ratio = statistics.median(timings["api"]) / statistics.median(timings["baseline"])
        print(f"    api/baseline p50 {ratio:.2f}x")
    baseline.close()


def _api(client: Any, token: str, text: str) -> int:
    response = client.get(
        "/api/v1/search", query_string={"q": text}, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        raise SystemExit(
            f"search {text!r}: {response.status_code} {response.get_data(as_text=True)}"
        )
    return sum(len(group["records"]) for group in response.get_json()["data"])


def _time(sides: dict[str, Any], iterations: int, warmup: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in sides}
    for round_number in range(warmup + iterations):
        for name, call in sides.items():
            started = time.perf_counter()
            call()
            if round_number >= warmup:
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    args = parse_args()
    app = where_bench.scratch_app(args, DATABASE, "search-bench")
    try:
        if args.reuse:
            tenant_id, token, rep_token, object_id = reused(app)
        else:
            tenant_id, token = where_bench.setup(app, args.records)
            rep_token, object_id = prepare(app, tenant_id, token)
        measure(app, tenant_id, {"api": token, "rep": rep_token}, object_id, args)
    finally:
        where_bench.clean_up(app, args, DATABASE)


if __name__ == "__main__":
    main()
