"""Global search: the records with every searched word (as a word prefix) in the fields
the reader may read, ranked, over the objects they may read, grouped by object; the
service behind the search page, its type-ahead and ``GET /api/v1/search``.

One statement: a branch per object joined with ``UNION ALL``. A branch first takes its
candidates from the GIN index: at most ``CANDIDATES`` ``search_terms`` rows
(trellis.records.search_terms) holding the key word (the rarest searched word,
trellis.records.search_rarity) in a field the reader may read (field-level security: a
word only in a hidden field finds nothing) of a record the access gate lets the reader
read (the list's own predicate, in that scan). Only the candidates are ranked: their
rows are read by primary key and grouped per record (each word must be in one of the
record's readable fields, not necessarily the same one), the record ranked by
``ts_rank`` summed over its matching fields (its name counts double), best first, at
most ``per_object + 1``. When an object's candidates reach the bound its group says so
(``capped``): more records may match than were ranked. The statement is built once
per revision, access shape, word count and bound; the words are its parameters. The
values shown (the name, snippets of the matching fields) come from the records found,
only for fields the branch searched.
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
from trellis.records.search_rarity import key_word
from trellis.records.search_snippets import Snippet, marked, snippet, word_starts
from trellis.records.search_terms import SEARCH_CONFIG, field_text, searchable_fields, words_of
from trellis.records.tables import records, search_terms

PER_OBJECT = 10
SUGGESTIONS = 8
#: At most this many search rows of an object (its records' fields holding the key
#: word) are ranked by a search, and by a type-ahead: ranking every match of a common
#: word is what made it slow (benchmarks/search_bench.py).
CANDIDATES = 1000
SUGGEST_CANDIDATES = 200
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
    """The records of one object found, whether it has more than were returned, and
    whether the search stopped at its candidates' bound (``CANDIDATES``): then more
    records may hold the words than were ranked, and the best of those found are shown."""

    object: ObjectSchema
    hits: list[Found]
    more: bool
    capped: bool = False


@dataclasses.dataclass(frozen=True)
class _Shape:
    """What a search statement depends on besides the reader and objects."""

    word_count: int
    per_object: int
    #: At most this many search rows of an object are ranked.
    cap: int
    #: Type-ahead: ranked by where the words are, without ts_rank.
    quick: bool


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
    *,
    cap: int = CANDIDATES,
    quick: bool = False,
) -> list[FoundGroup]:
    """The records of ``objects`` holding every one of ``words`` in fields the reader may
    read, grouped by object, the group with the best match first (then in the order
    given); objects without a hit are left out. At most ``cap`` matches of an object
    are ranked (its group says when it was capped); ``quick`` ranks without ts_rank."""
    searched = [(obj, fields) for obj in objects if (fields := _readable(obj, access))]
    if not words or not searched:
        return []
    shape = _Shape(len(words), per_object, cap, quick)
    key = (access.actor.tenant_id, access.shape, tuple(obj.id for obj, _ in searched), shape)
    statement = schema.statements.get(
        StatementKey(Statement.GLOBAL_SEARCH, uuid.UUID(int=0), key),
        lambda: _statement(access, searched, shape),
    )
    values = {f"word_{index}": f"{word}:*" for index, word in enumerate(words)}
    values["any_word"] = " | ".join(values.values())
    with index_friendly_reads(connection):  # every branch carries its tenant predicate
        values["key_word"] = f"{key_word(connection, words)}:*"
        rows = connection.execute(statement, {**values, **access.parameters}).all()
    pattern = word_starts(words)
    found: dict[int, list[Found]] = {}
    candidates: dict[int, int] = {}
    for row in rows:
        obj, fields = searched[row.branch]
        found.setdefault(row.branch, []).append(_found(row, obj, fields, pattern))
        candidates[row.branch] = row.candidates
    groups = [
        FoundGroup(
            searched[branch][0],
            hits[:per_object],
            more=len(hits) > per_object,
            capped=candidates[branch] > cap,
        )
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
    """The ``limit`` best records for type-ahead, across objects: the same search over
    fewer candidates, ranked by where the words are (the name first), for speed."""
    groups = search_records(
        connection, access, schema, objects, words, limit, cap=SUGGEST_CANDIDATES, quick=True
    )
    every = [(group.object, hit) for group in groups for hit in group.hits]
    return sorted(every, key=lambda item: -item[1].rank)[:limit]


def _query(parameter: str) -> sa.ColumnElement[Any]:
    return sa.func.to_tsquery(
        sa.literal_column(f"'{SEARCH_CONFIG}'::regconfig"), sa.bindparam(parameter, type_=sa.Text)
    )


def _candidates(
    access: Access, branch: int, obj: ObjectSchema, names: list[str], cap: int
) -> sa.CTE:
    """At most ``cap`` (and one) search rows of ``obj`` holding the key word (the rarest searched
    word) in a readable field of a record the reader may read: the only rows ranked.

    Bounding before ranking is what keeps a common word fast: ranking every one of a
    word in 30 % of a million records took 2.3 s. There is no order here on purpose: the
    GIN bitmap is read in table order and the scan stops at ``cap`` (an order would make
    PostgreSQL read every match first). The gate's predicate is in this scan, so an
    invisible record never takes a candidate's place (a rep's common word still finds
    the rep's records) and is never ranked.
    """
    tenant = access.actor.tenant_id
    key = search_terms.alias("key_terms")
    readable = access.predicate(obj, "read")
    return (
        sa.select(key.c.record_id)
        .select_from(
            key.join(
                records,
                sa.and_(records.c.tenant_id == key.c.tenant_id, records.c.id == key.c.record_id),
            )
        )
        .where(
            *_scope(key, tenant, obj, names),
            key.c.terms.op("@@")(_query("key_word")),
            records.c.tenant_id == written_out(tenant),
            records.c.deleted_at.is_(None),
            *([] if readable is None else [readable]),
        )
        .limit(cap + 1)  # one more: were there more than ``cap``?
        .cte(f"candidates_{branch}")
    )


def _branch(
    access: Access,
    branch: int,
    obj: ObjectSchema,
    fields: tuple[CompiledField, ...],
    shape: _Shape,
) -> sa.Subquery:
    """One object's hits, best first: the candidates' search rows grouped per record
    (every word in one of the record's readable fields), ranked, one page and one."""
    tenant = access.actor.tenant_id
    terms = search_terms.alias("terms")
    names = [field.api_name for field in fields]
    candidates = _candidates(access, branch, obj, names, shape.cap)
    weight = sa.case((terms.c.field == readable_name_field(obj, access), NAME_WEIGHT), else_=1.0)
    # Type-ahead ranks by where the words are (the name first), without ts_rank.
    rank = weight if shape.quick else sa.func.ts_rank(terms.c.terms, _query("any_word")) * weight
    distinct = sa.select(candidates.c.record_id).distinct().subquery("candidate")
    every_word = (
        sa.func.bool_or(terms.c.terms.op("@@")(_query(f"word_{index}")))
        for index in range(shape.word_count)
    )
    matched = (
        sa.select(
            terms.c.record_id,
            sa.func.sum(rank).label("rank"),
            sa.func.array_agg(terms.c.field).label("fields"),
        )
        .select_from(
            distinct.join(
                terms,
                sa.and_(
                    terms.c.tenant_id == written_out(tenant),
                    terms.c.record_id == distinct.c.record_id,
                ),
            )
        )
        .where(*_scope(terms, tenant, obj, names), terms.c.terms.op("@@")(_query("any_word")))
        .group_by(terms.c.record_id)
        .having(sa.and_(*every_word))
        .order_by(sa.literal_column("rank").desc(), terms.c.record_id)
        .limit(shape.per_object + 1)
        .subquery("matched")
    )
    return _shown(access, branch, obj, matched, candidates)


def _scope(
    terms: Any, tenant: uuid.UUID, obj: ObjectSchema, names: list[str]
) -> tuple[sa.ColumnElement[bool], ...]:
    """The rows of ``obj``'s fields ``names`` (tenant and object written out)."""
    return (
        terms.c.tenant_id == written_out(tenant),
        terms.c.object_id == written_out(obj.id),
        terms.c.field.in_(names),
    )


def _shown(
    access: Access, branch: int, obj: ObjectSchema, matched: sa.Subquery, candidates: sa.CTE
) -> sa.Subquery:
    """The values shown of the page's records (already through the gate, in the
    candidates), and how many candidate rows there were (more than ``cap``: capped)."""
    tenant = access.actor.tenant_id
    name_text = name_sql(obj, access)
    name = sa.literal_column(name_text, sa.Text) if name_text else sa.null()
    return (
        sa.select(
            sa.literal_column(str(branch), sa.Integer).label("branch"),
            records.c.id,
            matched.c.rank,
            matched.c.fields,
            records.c.data,
            sa.cast(name, sa.Text).label("name"),
            sa.select(sa.func.count())
            .select_from(candidates)
            .scalar_subquery()
            .label("candidates"),
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
        .subquery(f"branch_{branch}")
    )


def _statement(
    access: Access,
    searched: list[tuple[ObjectSchema, tuple[CompiledField, ...]]],
    shape: _Shape,
) -> sa.CompoundSelect[Any]:
    branches = [
        # Each branch's own order and limit, inside a subquery of its own.
        sa.select(*_branch(access, index, obj, fields, shape).c)
        for index, (obj, fields) in enumerate(searched)
    ]
    return sa.union_all(*branches).order_by(
        sa.literal_column("branch"), sa.literal_column("rank").desc(), sa.literal_column("id")
    )
