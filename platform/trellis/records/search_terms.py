"""The words global search finds records by: one ``search_terms`` row per record and
searchable field (migration 0015), kept in the transaction of every write.

A field is searchable when its type says so (``FieldType.searchable``) and its values are
stored; the row holds the words of the type's ``search_text`` of the value (a rich text's
text without its tags, a picklist's labels). Creates add their rows in the create's own
statement (trellis.records.writes), updates replace the rows of the fields they change,
and metadata changes drop or rebuild a field's rows (trellis.records.search_reindex).

Words are split here, in Python, by one rule that the search side uses too
(:func:`words_of`): runs of letters and digits, lower-cased. So ``ada@example.com`` is
found by ``example`` and ``O'Brien`` by ``brien``, and the index and the query can never
disagree on where a word ends. The text search configuration is ``simple`` (no stemming,
no stop words) on purpose: CRM values are names, addresses, codes and phrases in
whatever languages a tenant works in; an English stemmer would mangle names ("Jones" →
"jone") and drop "The" from "The Who", and one tenant's data mixes languages. Search
matches every word as a prefix instead (trellis.records.search), which covers plurals
and type-ahead alike.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.engine import Connection

from trellis.metadata.compiled import CompiledField, ObjectSchema
from trellis.records.tables import records, search_terms

#: The text search configuration of the index and of every query (see above).
SEARCH_CONFIG = "simple"
_WORD = re.compile(r"[^\W_]+")
#: A tsvector holds at most 1 MB; words past this many characters of a value are not
#: indexed (a long text's first 100,000 characters are plenty to find it by).
MAX_INDEXED_CHARACTERS = 100_000
_REBUILD_BATCH = 1000
_UUID = UUID(as_uuid=True)


def words_of(text: str) -> list[str]:
    """The words of ``text`` as the index and the query both split it."""
    return _WORD.findall(text.lower())


def searchable_fields(obj: ObjectSchema) -> tuple[CompiledField, ...]:
    """The fields of ``obj`` whose values search indexes."""
    return tuple(
        field for field in obj.fields.values() if field.type.searchable and field.type.stored
    )


def field_text(field: CompiledField, data: Mapping[str, Any]) -> str | None:
    """The plain text search shows for ``field`` of a record's ``data``."""
    return field.type.search_text(data.get(field.api_name), field.definition)


def _indexed(field: CompiledField, data: Mapping[str, Any]) -> str | None:
    text = field_text(field, data)
    words = " ".join(words_of(text[:MAX_INDEXED_CHARACTERS])) if text else ""
    return words or None


def term_parameters(
    fields: Iterable[CompiledField], new: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The ``term_rows`` parameter of a create for :func:`terms_cte`: a JSON array with
    one element per record and one of ``fields`` with words; rows are ``{"id", "data"}``.
    One JSON document, not arrays: see trellis.records.writes.create_statement."""
    fields = tuple(fields)
    rows = [
        {"record": str(row["id"]), "field": field.api_name, "words": words}
        for row in new
        for field in fields
        if (words := _indexed(field, row["data"])) is not None
    ]
    return {"term_rows": Jsonb(rows)}


def terms_cte() -> sa.CTE:
    """The insert of a create's search rows, as a data-modifying CTE; parameters
    ``tenant_id``, ``object_id`` and the ``term_rows`` of :func:`term_parameters`."""
    arrays = (
        sa.func.jsonb_to_recordset(sa.cast(sa.bindparam("term_rows"), JSONB))
        .table_valued(
            sa.column("record", _UUID), sa.column("field", sa.Text), sa.column("words", sa.Text)
        )
        .render_derived(name="term", with_types=True)
    )
    return (
        search_terms.insert()
        .from_select(
            ["tenant_id", "record_id", "field", "object_id", "terms"],
            sa.select(
                sa.cast(sa.bindparam("tenant_id"), _UUID),
                arrays.c.record,
                arrays.c.field,
                sa.cast(sa.bindparam("object_id"), _UUID),
                _vector(arrays.c.words),
            ),
        )
        .cte("terms")
    )


def _vector(words: Any) -> sa.ColumnElement[Any]:
    return sa.func.to_tsvector(sa.literal_column(f"'{SEARCH_CONFIG}'::regconfig"), words)


# Replace the rows of the fields an update changed: those with words are upserted, the
# others (now blank) deleted; the two lists never share a field.
_REPLACE = sa.text(
    "WITH cleared AS (DELETE FROM search_terms WHERE tenant_id = :tenant AND record_id = :record "
    "AND field = ANY(CAST(:cleared AS text[]))) "
    "INSERT INTO search_terms (tenant_id, record_id, field, object_id, terms) "
    f"SELECT :tenant, :record, t.field, :object, to_tsvector('{SEARCH_CONFIG}', t.words) "
    "FROM unnest(CAST(:fields AS text[]), CAST(:words AS text[])) AS t(field, words) "
    "ON CONFLICT (tenant_id, record_id, field) DO UPDATE SET terms = EXCLUDED.terms"
)


def sync_terms(
    connection: Connection,
    tenant_id: uuid.UUID,
    obj: ObjectSchema,
    record_id: uuid.UUID,
    prior: Mapping[str, Any],
    merged: Mapping[str, Any],
) -> None:
    """Bring a record's search rows in step with an update from ``prior`` to ``merged``,
    in the update's transaction (one statement, none when no searchable value changed)."""
    fields, words, cleared = [], [], []
    for field in searchable_fields(obj):
        name = field.api_name
        if prior.get(name) == merged.get(name):
            continue
        indexed = _indexed(field, merged)
        if indexed is None:
            cleared.append(name)
        else:
            fields.append(name)
            words.append(indexed)
    if fields or cleared:
        connection.execute(
            _REPLACE,
            {
                "tenant": tenant_id,
                "record": record_id,
                "object": obj.id,
                "cleared": cleared,
                "fields": fields,
                "words": words,
            },
        )


def drop_terms(
    connection: Connection, tenant_id: uuid.UUID, object_id: uuid.UUID, fields: list[str] | None
) -> None:
    """Remove the search rows of ``fields`` of an object (every field when None)."""
    query = search_terms.delete().where(
        search_terms.c.tenant_id == tenant_id, search_terms.c.object_id == object_id
    )
    if fields is not None:
        query = query.where(search_terms.c.field.in_(fields))
    connection.execute(query)


def rebuild_terms(
    connection: Connection, tenant_id: uuid.UUID, obj: ObjectSchema, fields: list[CompiledField]
) -> None:
    """Index ``fields`` of every record of ``obj`` (recycle bin included) afresh, from
    the stored values: after a field's type or values changed, or it came back."""
    if not fields:
        return
    drop_terms(connection, tenant_id, obj.id, [field.api_name for field in fields])
    names = sa.cast(sa.bindparam("names", [field.api_name for field in fields]), ARRAY(sa.Text))
    # A server-side cursor: a retyped field of a million records is read in batches.
    rows = connection.execute(
        sa.select(records.c.id, records.c.data).where(
            records.c.tenant_id == tenant_id,
            records.c.object_id == obj.id,
            records.c.data.op("?|")(names),
        ),
        execution_options={"stream_results": True},
    )
    while batch := rows.fetchmany(_REBUILD_BATCH):
        parameters = term_parameters(fields, ({"id": row.id, "data": row.data} for row in batch))
        if parameters["term_rows"].obj:
            connection.execute(
                sa.select(sa.literal_column("1")).add_cte(terms_cte()),
                {**parameters, "tenant_id": tenant_id, "object_id": obj.id},
            )
