"""CSV import benchmark: validated records per second per worker against a plain
``COPY`` of the same rows into a bare table, in the same run.

Run: ``python benchmarks/import_bench.py [--rows 20000] [--batch 1000]``. It needs
PostgreSQL (user ``postgres``, trust) and Redis on 127.0.0.1, like the tests.

* **Trellis, dry run**: ``POST /imports/{id}/dry-run`` (in-process test client): every
  row read as its field types read text, its lookup found by name, written through
  ``RecordService.create_many`` (types, required fields, a validation rule, a unique
  field, the lookup's reference, history, outbox events) in a savepoint rolled back.
* **Trellis, import**: the job's rows written by :func:`trellis.imports.run.run_job`,
  the function the ``trellis.run_import`` Celery task runs, on one thread: one worker
  process with concurrency 1. Each batch commits with the job's counts.
* **Baseline**: ``COPY bench_copy FROM STDIN (FORMAT csv)`` of the same file into a
  table with the same columns as plain SQL types: no checks, no history, no events.

The figures depend on the machine's load (other work shares it); nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATABASE = "trellis_import_bench"
TARGET = 25_000  # validated records per second per worker (the goal set for imports)
ACCOUNT = {
    "api_name": "Account",
    "label": "Account",
    "fields": [{"api_name": "Name", "type": "text", "required": True}],
}
CONTACT = {
    "api_name": "Contact",
    "label": "Contact",
    "fields": [
        {"api_name": "Name", "label": "Full name", "type": "text", "required": True},
        {"api_name": "Email", "type": "email", "unique": True},
        {"api_name": "Age", "type": "number", "scale": 0},
        {"api_name": "Stage", "type": "picklist", "values": ["Lead", "Customer"]},
        {"api_name": "Account", "type": "lookup", "target": "Account", "on_delete": "set_null"},
    ],
    "validation_rules": [
        {"name": "Adult", "condition": "AND(NOT(ISBLANK(Age)), Age < 18)", "message": "Adults."}
    ],
}
ACCOUNTS = 50


def csv_file(rows: int, run: str) -> bytes:
    lines = ["Full name,Email,Age,Stage,Account"]
    for n in range(rows):
        stage = "Lead" if n % 3 else "Customer"
        lines.append(
            f"Person {n},p{n}.{run}@example.com,{20 + n % 60},{stage},Account {n % ACCOUNTS}"
        )
    return ("\n".join(lines) + "\n").encode()


def setup(app: Any) -> tuple[Any, dict[str, str]]:
    import api_bench  # a sibling script: benchmarks/ is on sys.path when run as a script

    tenant, _, _, token = api_bench.bench_tenant(app.extensions["trellis"].database, "import")
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for definition in (ACCOUNT, CONTACT):
        response = client.post("/api/v1/meta/objects", json=definition, headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"setup failed: {response.get_json()}")
    accounts = [{"Name": f"Account {n}"} for n in range(ACCOUNTS)]
    response = client.post(
        "/api/v1/objects/Account/bulk", json={"records": accounts}, headers=headers
    )
    if response.status_code != 200:
        raise SystemExit(f"setup failed: {response.get_json()}")
    return tenant, headers


def new_job(app: Any, headers: dict[str, str], data: bytes) -> str:
    client = app.test_client()
    job_id = client.post("/api/v1/imports", json={"object": "Contact"}, headers=headers).get_json()[
        "id"
    ]
    uploaded = client.put(
        f"/api/v1/imports/{job_id}/file",
        data=data,
        headers={**headers, "Content-Type": "text/csv"},
    )
    if uploaded.status_code != 200:
        raise SystemExit(f"upload failed: {uploaded.get_json()}")
    return str(job_id)


def measure_dry_run(app: Any, headers: dict[str, str], data: bytes) -> tuple[float, dict]:
    job_id = new_job(app, headers, data)
    started = time.perf_counter()
    result = app.test_client().post(f"/api/v1/imports/{job_id}/dry-run", headers=headers)
    return time.perf_counter() - started, result.get_json()


def measure_import(
    app: Any, tenant: Any, headers: dict[str, str], data: bytes, batch: int
) -> tuple[float, dict]:
    from trellis.imports.run import run_job

    job_id = new_job(app, headers, data)
    client = app.test_client()
    # Queued as the API's start does, without handing it to a worker: this process runs it.
    state = app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        import sqlalchemy as sa

        connection.execute(
            sa.text("UPDATE import_jobs SET state = 'queued' WHERE id = :id"), {"id": job_id}
        )
    started = time.perf_counter()
    status = run_job(state.database, state.metadata_cache, batch, tenant.id, uuid.UUID(job_id))
    elapsed = time.perf_counter() - started
    job = client.get(f"/api/v1/imports/{job_id}", headers=headers).get_json()
    if status != "done":
        raise SystemExit(f"the import ended {status}: {job}")
    return elapsed, job


def measure_copy(url: str, data: bytes) -> float:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        connection.execute(
            "CREATE TABLE bench_copy (name text NOT NULL, email text UNIQUE, age numeric, "
            "stage text, account text)"
        )
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy:
                copy.write(data)
        connection.commit()
        return time.perf_counter() - started


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000, help="rows per committed batch")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sys.path.insert(0, str(HERE))
    import api_bench
    from api_bench import delete_redis_namespace

    from trellis.config import load_config
    from trellis.runtime.app import create_app

    url = api_bench.create_database(args.database_url, DATABASE)
    namespace = f"import-bench-{uuid.uuid4().hex[:8]}"
    settings = api_bench.trellis_settings(
        url, args.redis_url, namespace, tempfile.mkdtemp(prefix="import-bench-"), 4
    )
    app = create_app(load_config({**settings, "max_body_bytes": 64 * 1024 * 1024}, environ={}))
    try:
        tenant, headers = setup(app)
        data = csv_file(args.rows, "a")
        dry_seconds, dry = measure_dry_run(app, headers, data)
        import_seconds, job = measure_import(app, tenant, headers, data, args.batch)
        copy_seconds = measure_copy(url, data)
    finally:
        app.extensions["trellis"].database.dispose()
        delete_redis_namespace(args.redis_url, namespace)
        api_bench.drop_database(args.database_url, DATABASE)
    rows = args.rows
    print(f"{rows:,} rows ({len(data):,} bytes), batches of {args.batch}, one thread")
    print(
        f"dry run:  {rows / dry_seconds:>10,.0f} validated rows/s ({dry_seconds:.2f} s; "
        f"{dry['would_create']:,} would be created, {dry['rejected']} rejected)"
    )
    print(
        f"import:   {rows / import_seconds:>10,.0f} records/s     ({import_seconds:.2f} s; "
        f"{job['created']:,} created, {job['rejected']} rejected)"
    )
    print(f"COPY:     {rows / copy_seconds:>10,.0f} rows/s        ({copy_seconds:.2f} s)")
    print(
        f"import / COPY time: {import_seconds / copy_seconds:.1f}x; "
        f"target {TARGET:,} validated records/s per worker"
    )


if __name__ == "__main__":
    main()
