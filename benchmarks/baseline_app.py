"""A hand-written minimal Flask + psycopg endpoint: the baseline of ``api_bench.py``.

It serves the four operations the API benchmark measures for one known object
(Opportunity), with the least code a careful engineer would write by hand, while
doing the same database work Trellis does so that the comparison is fair:

* the same PostgreSQL data, role and row-level security: every pooled connection
  runs ``SET ROLE <app role>`` when it is opened (as Trellis's app engine does), and
  every transaction starts with ``set_config('trellis.tenant_id', …, true)``;
* the same bearer-token check: ``trl_<tenant hex>_<secret>``, SHA-256 digest looked
  up (joined to users and tenants, revoked/expiry/active checks) with the same query
  Trellis runs, inside the tenant's RLS scope; writes need the ``write`` scope;
* the same SQL for the data: the record-as-JSON expression, the typed filter and
  sort expressions that match the per-field partial indexes, and for writes the same
  one statement per request, however many records (``records`` … RETURNING the JSON,
  ``record_history`` with the field-level diff, ``events`` with the outbox payload);
* a ``psycopg_pool`` pool of the same size as Trellis's, served by waitress with the
  same number of threads.

What it leaves out is what a hand-written endpoint for one fixed object needs not
do: no metadata lookup (the object id is given on the command line), one transaction
per request (token check and work together), no pool pre-ping, bulk creates
all-or-nothing, minimal field validation written out for these four fields.

Run: ``python benchmarks/baseline_app.py --database-url URL --object-id UUID --port 8001``
(``api_bench.py`` starts it itself).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import decimal
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

TOKEN_PATTERN = re.compile(r"trl_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")
STAGES = ("Prospecting", "Negotiation", "Closed Won", "Closed Lost")
STAGE_BY_LOWER = {stage.lower(): stage for stage in STAGES}
FIELDS = ("Name", "Amount", "Stage", "CloseDate")
IGNORED_SYSTEM_FIELDS = frozenset(
    {"id", "version", "created_at", "updated_at", "created_by", "updated_by"}
)
MAX_BULK, MAX_LIMIT = 200, 200

# --- SQL: the same statements Trellis issues for these operations -------------------------
SET_TENANT = "SELECT set_config('trellis.tenant_id', %s, true)"
AUTH = """
SELECT users.tenant_id, users.id, users.email, users.display_name, users.password_hash,
       users.roles, users.active, users.created_at, users.last_login_at,
       api_tokens.id AS token_id, api_tokens.scopes AS token_scopes,
       api_tokens.last_used_at AS token_last_used_at, tenants.slug
FROM api_tokens
JOIN users ON users.tenant_id = api_tokens.tenant_id AND users.id = api_tokens.user_id
JOIN tenants ON tenants.id = api_tokens.tenant_id
WHERE api_tokens.token_hash = %s AND api_tokens.revoked_at IS NULL
  AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > now())
  AND users.active AND tenants.active"""
RECORD_JSON = (
    "(jsonb_build_object('Name', NULL, 'Amount', NULL, 'Stage', NULL, "
    "'CloseDate', NULL) || data || jsonb_build_object('id', id, 'version', version, "
    "'created_at', created_at, 'updated_at', updated_at, 'created_by', created_by, "
    "'updated_by', updated_by, 'owner_id', owner_id))::text"
)
GET = f"""
SELECT id, data, version, deleted_at, owner_id, {RECORD_JSON} AS json
FROM records
WHERE tenant_id = %s AND object_id = %s AND id = %s AND deleted_at IS NULL"""
# Filtered, sorted page: Stage = …, Amount >= …, ORDER BY Amount DESC, id; LIMIT n + 1.
LIST = f"""
SELECT {RECORD_JSON} AS json, ((data->>'Amount')::numeric) AS sort_0, id AS sort_1
FROM records
WHERE tenant_id = %s AND object_id = %s AND deleted_at IS NULL
  AND (data->>'Stage') = %s AND ((data->>'Amount')::numeric) >= %s
ORDER BY ((data->>'Amount')::numeric) DESC, id ASC
LIMIT %s"""
# A create, of one record or of many: the records, their history rows (every value changed
# from blank) and their outbox events, in one statement over arrays of ids, data and owners.
INSERT = f"""
WITH new_records (id, data, owner_id) AS (
  SELECT * FROM unnest(%(ids)s::uuid[], %(data)s::jsonb[], %(owners)s::uuid[])),
saved AS (
  INSERT INTO records (tenant_id, id, object_id, data, owner_id, created_by, updated_by)
  SELECT %(tenant)s, id, %(object)s, data, owner_id, %(user)s, %(user)s FROM new_records
  RETURNING id, {RECORD_JSON} AS json),
entries AS (
  SELECT id, data, COALESCE((SELECT jsonb_object_agg(key, jsonb_build_array(NULL, value))
                             FROM jsonb_each(data)), '{{}}'::jsonb) AS changes
  FROM new_records),
history AS (
  INSERT INTO record_history (tenant_id, record_id, object_id, action, changes, actor_id)
  SELECT %(tenant)s, id, %(object)s, 'created', changes, %(user)s FROM entries),
outbox AS (
  INSERT INTO events (tenant_id, object_id, record_id, type, payload, actor_id)
  SELECT %(tenant)s, %(object)s, id, 'record.created',
         jsonb_build_object('object', 'Opportunity', 'record_id', id::text, 'changes', changes,
                            'record', data, 'prior', NULL, 'chain', NULL), %(user)s
  FROM entries)
SELECT id, json FROM saved"""


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> Response:
    return Response(
        json.dumps({"ok": False, "status": status, "error": message}),
        status=status,
        mimetype="application/json",
    )


def parse_token(header: str | None) -> tuple[uuid.UUID, bytes]:
    scheme, _, credentials = (header or "").partition(" ")
    match = TOKEN_PATTERN.fullmatch(credentials.strip())
    if scheme.lower() != "bearer" or match is None:
        raise HttpError(401, "Authentication required.")
    return uuid.UUID(match.group(1)), hashlib.sha256(match.group(0).encode()).digest()


def validate(values: Any) -> dict[str, Any]:
    """The four fields of Opportunity, checked and normalised like Trellis stores them."""
    if not isinstance(values, dict):
        raise HttpError(422, "A record is a JSON object.")
    data: dict[str, Any] = {}
    for key, value in values.items():
        if key in IGNORED_SYSTEM_FIELDS or value is None or value == "":
            continue
        if key == "Name":
            if not isinstance(value, str) or len(value.strip()) > 120:
                raise HttpError(422, "Name: text of at most 120 characters.")
            if value.strip():
                data["Name"] = value.strip()
        elif key == "Amount":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise HttpError(422, "Amount: a number.")
            amount = decimal.Decimal(repr(value)).quantize(
                decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP
            )
            if abs(amount) >= 10**13:
                raise HttpError(422, "Amount: too large.")
            data["Amount"] = int(amount) if amount == amount.to_integral_value() else float(amount)
        elif key == "Stage":
            stage = STAGE_BY_LOWER.get(value.strip().lower()) if isinstance(value, str) else None
            if stage is None:
                raise HttpError(422, f"Stage: one of {', '.join(STAGES)}.")
            data["Stage"] = stage
        elif key == "CloseDate":
            try:
                data["CloseDate"] = dt.date.fromisoformat(value).isoformat()
            except (TypeError, ValueError):
                raise HttpError(422, "CloseDate: a date, YYYY-MM-DD.") from None
        else:
            raise HttpError(422, f"Opportunity has no field {key!r}.")
    if "Name" not in data:
        raise HttpError(422, "Name is required.")
    return data


def encode_cursor(sort_text: str, values: list[Any]) -> str:
    """Trellis's keyset cursor format, so the page bodies are byte-for-byte identical."""
    payload = json.dumps({"s": sort_text, "v": values}, default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def create_app(
    conninfo: str, object_id: uuid.UUID, app_role: str = "trellis_app", pool_size: int = 8
) -> Flask:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", app_role):
        raise ValueError(f"invalid role name {app_role!r}")

    def configure(connection: Any) -> None:
        connection.execute(f'SET ROLE "{app_role}"')
        connection.commit()

    pool = ConnectionPool(
        conninfo, min_size=pool_size, max_size=pool_size, configure=configure, open=True
    )
    app = Flask("baseline")
    app.extensions["pool"] = pool
    base = "/api/v1/objects/Opportunity"

    @contextlib.contextmanager
    def transaction(write: bool) -> Iterator[tuple[Any, uuid.UUID, uuid.UUID]]:
        """(cursor, tenant id, user id) inside one authenticated tenant transaction."""
        tenant_id, token_hash = parse_token(request.headers.get("Authorization"))
        with pool.connection() as connection, connection.cursor() as cursor:
            cursor.execute(SET_TENANT, (str(tenant_id),))
            row = cursor.execute(AUTH, (token_hash,)).fetchone()
            if row is None:
                raise HttpError(401, "The token is invalid, expired or revoked.")
            scopes = row[10]
            if write and "write" not in scopes and "admin" not in scopes:
                raise HttpError(403, "This token lacks the 'write' scope.")
            yield cursor, tenant_id, row[1]

    @app.errorhandler(HttpError)
    def handle(error: HttpError) -> Response:
        return error_body(error.status, error.message)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"ok":true}', mimetype="application/json")

    @app.get(f"{base}/records/<record_id>")
    def get_record(record_id: str) -> Response:
        try:
            parsed = uuid.UUID(record_id)
        except ValueError:
            raise HttpError(404, "No such record.") from None
        with transaction(write=False) as (cursor, tenant_id, _):
            row = cursor.execute(GET, (tenant_id, object_id, parsed)).fetchone()
        if row is None:
            raise HttpError(404, "No such record.")
        response = Response(row[5], mimetype="application/json")
        response.headers["ETag"] = f'"{row[2]}"'
        return response

    @app.get(f"{base}/records")
    def list_records() -> Response:
        args = request.args
        unknown = set(args) - {"Stage", "Amount__gte", "sort", "limit"}
        if unknown or args.get("sort", "-Amount") != "-Amount":
            raise HttpError(
                400, "This endpoint filters by Stage and Amount__gte, sorted by -Amount."
            )
        stage = STAGE_BY_LOWER.get(args.get("Stage", "").strip().lower())
        if stage is None:
            raise HttpError(400, "Stage: one of the picklist values.")
        try:
            amount = decimal.Decimal(args.get("Amount__gte", ""))
            limit = int(args.get("limit", "50"))
        except (decimal.InvalidOperation, ValueError):
            raise HttpError(400, "Amount__gte is a number, limit a whole number.") from None
        if not amount.is_finite() or not 1 <= limit <= MAX_LIMIT:
            raise HttpError(400, "Amount__gte is a number, limit 1-200.")
        with transaction(write=False) as (cursor, tenant_id, _):
            rows = cursor.execute(LIST, (tenant_id, object_id, stage, amount, limit + 1)).fetchall()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor("-Amount", [str(rows[-1][1]), str(rows[-1][2])])
        body = (
            '{"data":[' + ",".join(row[0] for row in rows) + "]"
            f',"next_cursor":{json.dumps(next_cursor)}}}'
        )
        return Response(body, mimetype="application/json")

    def insert(
        cursor: Any, tenant_id: uuid.UUID, user_id: uuid.UUID, items: list[dict[str, Any]]
    ) -> list[tuple[uuid.UUID, str]]:
        """Insert records, their history rows and their outbox events; return (id, json)."""
        ids = [uuid.uuid4() for _ in items]
        saved = dict(
            cursor.execute(
                INSERT,
                {
                    "ids": ids,
                    "data": [Jsonb(data) for data in items],
                    "owners": [user_id] * len(items),
                    "tenant": tenant_id,
                    "object": object_id,
                    "user": user_id,
                },
            ).fetchall()
        )
        return [(record_id, saved[record_id]) for record_id in ids]

    def json_request() -> Any:
        if request.mimetype != "application/json":
            raise HttpError(415, "Send JSON.")
        try:
            return json.loads(request.get_data())
        except ValueError:
            raise HttpError(400, "The body is not valid JSON.") from None

    @app.post(f"{base}/records")
    def create_record() -> Response:
        data = validate(json_request())
        with transaction(write=True) as (cursor, tenant_id, user_id):
            [(_, text)] = insert(cursor, tenant_id, user_id, [data])
        return Response(text, status=201, mimetype="application/json")

    @app.post(f"{base}/bulk")
    def bulk() -> Response:
        body = json_request()
        items = body.get("records") if isinstance(body, dict) else None
        if (
            body.get("operation", "create") != "create"
            or not isinstance(items, list)
            or not 1 <= len(items) <= MAX_BULK
        ):
            raise HttpError(400, "records: 1-200 records to create.")
        data = [validate(item) for item in items]
        with transaction(write=True) as (cursor, tenant_id, user_id):
            created = insert(cursor, tenant_id, user_id, data)
        results = ",".join(
            f'{{"index":{index},"ok":true,"id":"{record_id}","record":{text}}}'
            for index, (record_id, text) in enumerate(created)
        )
        return Response('{"ok":true,"results":[' + results + "]}", mimetype="application/json")

    return app


def conninfo_from_url(url: str) -> str:
    """``postgresql+psycopg://…`` (SQLAlchemy spelling) to a libpq URL."""
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--object-id", required=True, type=uuid.UUID)
    parser.add_argument("--app-role", default="trellis_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    # Served exactly as Trellis is (waitress, or gunicorn workers for --processes > 1).
    from trellis.runtime.server import serve

    serve(
        lambda: create_app(
            conninfo_from_url(args.database_url), args.object_id, args.app_role, args.pool_size
        ),
        host=args.host,
        port=args.port,
        threads=args.threads,
        processes=args.processes,
        ident="baseline",
        quiet=True,
    )


if __name__ == "__main__":
    main()
