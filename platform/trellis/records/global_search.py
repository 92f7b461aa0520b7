"""Global search: the records with every searched word (as a word prefix) in the fields
the reader may read, ranked, over the objects they may read, grouped by object; the
service behind the search page, its type-ahead and ``GET /api/v1/search``.

One statement: a branch per object joined with ``UNION ALL``. A branch reads the
``search_terms`` rows (trellis.records.search_terms) of that object's fields the reader
may read (field-level security: a word only in a hidden field finds nothing), groups
them per record (each word must be in one of the record's readable fields, not
necessarily the same one), ranks the record by ``ts_rank`` summed over its matching
fields (its name counts double), and keeps the records the access gate lets the reader
read (the list's own predicate, in the statement), best first, at most ``per_object +
1``. The statement is built once per revision, access shape and word count; the words
are its parameters. The values shown (the name, snippets of the matching fields) come
from the records found, only for fields the branch searched.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.db import index_friendly_reads
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.names import name_sql, readable_name_field
from trellis.records.query import written_out
from trellis.records.search import refuse_too_many_words, search_words
from trellis.records.search_snippets import Snippet, marked, snippet, word_starts
from trellis.records.search_terms import SEARCH_CONFIG, field_text, searchable_fields, words_of
from trellis.records.tables import records, search_terms

PER_OBJECT = 10
SUGGESTIONS = 8
#: A match in the record's name weighs this much more than one elsewhere.
NAME_WEIGHT = 2.0


@dataclasses.dataclass(frozen=True)
class FoundField:
    """A field of a found record holding searched words: its label and a snippet."""

    api_name: str
    label: str
    snippet: Snippet


@dataclasses.dataclass(frozen=True)
class Found:
    id: uuid.UUID
    #: The record's name with the words marked; None when the reader may not read it.
    name: Snippet | None
    rank: float
    #: The other fields with searched words, best first.
    matches: tuple[FoundField, ...]


@dataclasses.dataclass(frozen=True)
class FoundGroup:
    """The records of one object found, and whether it has more than were returned."""

    object: ObjectSchema
    hits: list[Found]
    more: bool


def query_words(text: str) -> list[str]:
    """The distinct words searched for (split as the index splits values, lower-cased);
    a search too long, or of too many words, is a clear 400."""
    search_words(text)  # the length, NUL and whitespace-separated word limits
    words = list(dict.fromkeys(words_of(text)))
    refuse_too_many_words(len(words))
    return words


def _readable(obj: ObjectSchema, access: Access) -> tuple[CompiledField, ...]:
    """The searchable fields of ``obj`` field-level security lets the reader read."""
    if not access.rights.has(obj.api_name, "read"):
        return ()
    hidden = access.unreadable_fields(obj)
    return tuple(field for field in searchable_fields(obj) if field.api_name not in hidden)


def search_records(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    objects: Iterable[ObjectSchema],
    words: list[str],
    per_object: int = PER_OBJECT,
) -> list[FoundGroup]:
    """The records of ``objects`` holding every one of ``words`` in fields the reader may
    read, grouped by object, the group with the best match first (then in the order
    given); objects without a hit are left out."""
    searched = [(obj, fields) for obj in objects if (fields := _readable(obj, access))]
    if not words or not searched:
        return []
    shape = (
        access.actor.tenant_id,
        access.shape,
        tuple(obj.id for obj, _ in searched),
        len(words),
        per_object,
    )
    statement = schema.statements.get(
        StatementKey(Statement.GLOBAL_SEARCH, uuid.UUID(int=0), shape),
        lambda: _statement(access, searched, len(words), per_object),
    )
    values = {f"word_{index}": f"{word}:*" for index, word in enumerate(words)}
    values["any_word"] = " | ".join(values.values())
    values["key_word"] = f"{max(words, key=len)}:*"
    with index_friendly_reads(connection):  # every branch carries its tenant predicate
        rows = connection.execute(statement, {**values, **access.parameters}).all()
    pattern = word_starts(words)
    found: dict[int, list[Found]] = {}
    for row in rows:
        obj, fields = searched[row.branch]
        found.setdefault(row.branch, []).append(_found(row, obj, fields, pattern))
    groups = [
        FoundGroup(searched[branch][0], hits[:per_object], len(hits) > per_object)
        for branch, hits in found.items()
    ]
    return sorted(groups, key=lambda group: -group.hits[0].rank)


def _found(
    row: Any, obj: ObjectSchema, fields: tuple[CompiledField, ...], pattern: re.Pattern[str]
) -> Found:
    """One hit as shown: its name and the snippets of its other matching fields."""
    by_name = {field.api_name: field for field in fields}
    matches = []
    for name in row.fields:
        field = by_name[name]
        text = field_text(field, row.data)
        if name != obj.name_field and text:
            label = str(field.definition.get("label") or name)
            matches.append(FoundField(name, label, snippet(text, pattern)))
    return Found(
        row.id,
        None if row.name is None else marked(row.name, pattern),
        float(row.rank),
        tuple(matches),
    )


def suggest(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    objects: Iterable[ObjectSchema],
    words: list[str],
    limit: int = SUGGESTIONS,
) -> list[tuple[ObjectSchema, Found]]:
    """The ``limit`` best records for type-ahead, across objects: the same search."""
    groups = search_records(connection, access, schema, objects, words, per_object=limit)
    every = [(group.object, hit) for group in groups for hit in group.hits]
    return sorted(every, key=lambda item: -item[1].rank)[:limit]


def _query(parameter: str) -> sa.ColumnElement[Any]:
    return sa.func.to_tsquery(
        sa.literal_column(f"'{SEARCH_CONFIG}'::regconfig"), sa.bindparam(parameter, type_=sa.Text)
    )


def _branch(
    access: Access,
    branch: int,
    obj: ObjectSchema,
    fields: tuple[CompiledField, ...],
    word_count: int,
    per_object: int,
) -> sa.Subquery:
    """One object's hits, best first: its search rows grouped per record, then the
    records the gate passes."""
    tenant = access.actor.tenant_id
    terms = search_terms.alias("terms")
    names = [field.api_name for field in fields]
    name_field = readable_name_field(obj, access)
    weight = sa.case((terms.c.field == name_field, NAME_WEIGHT), else_=1.0)
    matched = sa.select(
        terms.c.record_id,
        sa.func.sum(sa.func.ts_rank(terms.c.terms, _query("any_word")) * weight).label("rank"),
        sa.func.array_agg(terms.c.field).label("fields"),
    )
    if word_count > 1:
        # The records with the key word (the longest: likely the rarest) are the
        # candidates, found in the GIN index; only their rows are then read (by primary
        # key) for the other words, which may be in other fields. Reading every row with
        # any of the words instead grouped every row for "deal 12345" when every name
        # holds "Deal": 70 ms at 20,000 records, now 3.4 ms (3.8 ms at 1M;
        # benchmarks/search_bench.py).
        key = search_terms.alias("key_terms")
        candidates = (
            sa.select(key.c.record_id)
            .where(*_scope(key, tenant, obj, names), key.c.terms.op("@@")(_query("key_word")))
            .distinct()
            .subquery("candidates")
        )
        matched = matched.select_from(
            candidates.join(
                terms,
                sa.and_(
                    terms.c.tenant_id == written_out(tenant),
                    terms.c.record_id == candidates.c.record_id,
                ),
            )
        )
    matched_rows = (
        matched.where(
            *_scope(terms, tenant, obj, names), terms.c.terms.op("@@")(_query("any_word"))
        )
        .group_by(terms.c.record_id)
        .having(
            sa.and_(
                *(
                    sa.func.bool_or(terms.c.terms.op("@@")(_query(f"word_{index}")))
                    for index in range(word_count)
                )
            )
        )
        .subquery("matched")
    )
    return _visible(access, branch, obj, matched_rows, per_object)


def _scope(
    terms: Any, tenant: uuid.UUID, obj: ObjectSchema, names: list[str]
) -> tuple[sa.ColumnElement[bool], ...]:
    """The rows of ``obj``'s fields ``names`` (tenant and object written out)."""
    return (
        terms.c.tenant_id == written_out(tenant),
        terms.c.object_id == written_out(obj.id),
        terms.c.field.in_(names),
    )


def _visible(
    access: Access, branch: int, obj: ObjectSchema, matched: sa.Subquery, per_object: int
) -> sa.Subquery:
    """The matched records the gate lets the reader read, best first, one page and one."""
    tenant = access.actor.tenant_id
    name_text = name_sql(obj, access)
    name = sa.literal_column(name_text, sa.Text) if name_text else sa.null()
    readable = access.predicate(obj, "read")
    return (
        sa.select(
            sa.literal_column(str(branch), sa.Integer).label("branch"),
            records.c.id,
            matched.c.rank,
            matched.c.fields,
            records.c.data,
            sa.cast(name, sa.Text).label("name"),
        )
        .select_from(
            matched.join(
                records,
                sa.and_(
                    records.c.tenant_id == written_out(tenant),
                    records.c.id == matched.c.record_id,
                ),
            )
        )
        .where(records.c.deleted_at.is_(None), *([] if readable is None else [readable]))
        .order_by(matched.c.rank.desc(), records.c.id)
        .limit(per_object + 1)
        .subquery(f"branch_{branch}")
    )


def _statement(
    access: Access,
    searched: list[tuple[ObjectSchema, tuple[CompiledField, ...]]],
    word_count: int,
    per_object: int,
) -> sa.CompoundSelect[Any]:
    branches = [
        # Each branch's own order and limit, inside a subquery of its own.
        sa.select(*_branch(access, index, obj, fields, word_count, per_object).c)
        for index, (obj, fields) in enumerate(searched)
    ]
    return sa.union_all(*branches).order_by(
        sa.literal_column("branch"), sa.literal_column("rank").desc(), sa.literal_column("id")
    )
