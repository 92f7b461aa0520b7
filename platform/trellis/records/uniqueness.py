"""Unique fields: a value a unique field already holds (in the table, or in an earlier
record of the same batch) is refused, with writers of one value serialised by advisory
locks.

A batch is checked at once: one statement takes the locks of every value it writes, in a
fixed order, and one query per unique field finds the values the table already holds
(``= ANY`` of the batch's values), so a batch of N records costs as many round trips as
one record. One record (an update, a restore) is a batch of one.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.engine import Connection

from trellis.errors import ValidationError
from trellis.metadata.compiled import CompiledField, ObjectSchema
from trellis.records.tables import records

#: A record to check: its id and the values it would store.
Candidate = tuple[uuid.UUID, Mapping[str, Any]]

_LOCKS = sa.text(
    "SELECT pg_advisory_xact_lock(lock) FROM unnest(CAST(:locks AS bigint[])) AS lock"
).bindparams(sa.bindparam("locks", type_=ARRAY(BIGINT)))


def check_unique(
    connection: Connection,
    tenant_id: uuid.UUID,
    obj: ObjectSchema,
    values: Mapping[str, Any],
    record_id: uuid.UUID,
) -> None:
    """Refuse values a unique field of one record already holds in another record."""
    errors = unique_errors(connection, tenant_id, obj, [(record_id, values)])[0]
    if errors:
        raise duplicate_error(errors)


def duplicate_error(fields: dict[str, list[str]]) -> ValidationError:
    return ValidationError("Some values must be unique.", fields=fields, code="duplicate_value")


def unique_errors(
    connection: Connection, tenant_id: uuid.UUID, obj: ObjectSchema, batch: Sequence[Candidate]
) -> list[dict[str, list[str]]]:
    """Each candidate's duplicate values, by field (empty: none). Within the batch the
    first record to hold a value keeps it; a record refused for one field claims none
    of its other values, as if it had been checked and refused alone."""
    fields = [field for field in obj.writes.unique if any(_has(field, v) for _, v in batch)]
    if not fields:
        return [{} for _ in batch]
    _lock(connection, obj, fields, batch)
    held = {
        field.api_name: holders(
            connection,
            tenant_id,
            obj,
            field,
            (stored_text(values[field.api_name]) for _, values in batch if _has(field, values)),
        )
        for field in fields
    }
    claimed: set[tuple[str, str]] = set()
    found = []
    for record_id, values in batch:
        keys, errors = [], {}
        for field in fields:
            name = field.api_name
            if not _has(field, values):
                continue
            key = (name, stored_text(values[name]))
            if held[name].get(key[1], {record_id}) - {record_id} or key in claimed:
                errors[name] = [f"Another {obj.api_name} already has this value."]
            keys.append(key)
        if not errors:
            claimed.update(keys)
        found.append(errors)
    return found


def _has(field: CompiledField, values: Mapping[str, Any]) -> bool:
    return values.get(field.api_name) is not None


def _lock(
    connection: Connection,
    obj: ObjectSchema,
    fields: list[CompiledField],
    batch: Sequence[Candidate],
) -> None:
    """Serialise writers of the same values until commit; the unique partial index backs
    this up once it is built, but the check must hold while it is still building.

    The locks are taken in one statement in ascending key order: two writers whose
    batches share values wait for each other instead of each holding a lock the other
    needs (a deadlock)."""
    keys = {
        _lock_key(obj, field.api_name, values[field.api_name])
        for field in fields
        for _, values in batch
        if _has(field, values)
    }
    connection.execute(_LOCKS, {"locks": sorted(keys)})


def _lock_key(obj: ObjectSchema, name: str, value: Any) -> int:
    """The advisory lock of one value of a unique field: a stable signed 64-bit key."""
    text = f"unique:{obj.id}:{name}:{json.dumps(value)}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), signed=True)


def holders(
    connection: Connection,
    tenant_id: uuid.UUID,
    obj: ObjectSchema,
    field: CompiledField,
    texts: Iterable[str],
) -> dict[str, set[uuid.UUID]]:
    """The live records of ``obj`` whose ``field`` holds each of ``texts`` (as
    :func:`stored_text` gives them): one query."""
    wanted = sorted(set(texts))
    if not wanted:
        return {}
    stored = sa.literal_column(field.stored_text_expression, sa.Text)
    rows = connection.execute(
        sa.select(records.c.id, stored).where(
            records.c.tenant_id == tenant_id,
            records.c.object_id == obj.id,
            records.c.deleted_at.is_(None),
            # The values are written into the SQL (escaped by SQLAlchemy), so that
            # PostgreSQL plans with them: a hashed lookup per row, or the field's index.
            # As a parameter, a prepared statement's generic plan searched the array
            # linearly for every row: 0.4 s of each 1,000-row batch of an import into
            # 20,000 records (benchmarks/import_bench.py, profiled).
            stored == sa.any_(sa.bindparam("texts", wanted, ARRAY(sa.Text), literal_execute=True)),
        )
    )
    holders: dict[str, set[uuid.UUID]] = {}
    for record_id, text in rows:
        holders.setdefault(text, set()).add(record_id)
    return holders


def lock_value(connection: Connection, obj: ObjectSchema, name: str, value: Any) -> None:
    """Serialise the writers of one value of a unique field until the transaction ends,
    with the lock a batch takes for it (:func:`unique_errors`): an upsert takes it before
    it looks for the record (trellis.records.upserts). Taking it twice in one transaction
    is harmless."""
    connection.execute(_LOCKS, {"locks": [_lock_key(obj, name, value)]})


def stored_text(value: Any) -> str:
    """What ``data->>'field'`` yields for a stored JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)
