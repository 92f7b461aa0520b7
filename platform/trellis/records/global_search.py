"""Global search: the records with every searched word (as a word prefix) in the fields
the reader may read, ranked, over the objects they may read, grouped by object; the
service behind the search page, its type-ahead and ``GET /api/v1/search``.

One statement: a branch per object joined with ``UNION ALL``. A branch first takes its
candidates (trellis.records.search_candidates): the first rows holding the key word
(the rarest searched word, trellis.records.search_rarity) in a field the reader may
read (field-level security: a word only in a hidden field finds nothing), at most
``CANDIDATES`` and one, read in order from the B-tree of words so that the scan stops
there, kept to the records the access gate lets the reader read (the list's own
predicate), with the first page of readable ones after them. Only the candidates are
ranked: their rows are read by primary key and grouped per record (each word must be
in one of the record's readable fields, not necessarily the same one), the record
ranked by ``ts_rank`` summed over its matching fields (its name counts double), best
first, at most ``per_object + 1``. When the bound was reached (and the reader may read
a page of matches) its group says so (``capped``): more records may match than were
ranked. The statement is built once
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
from trellis.records import search_candidates
from trellis.records.names import name_sql, readable_name_field
from trellis.records.query import written_out
from trellis.records.search import refuse_too_many_words, search_words
from trellis.records.search_candidates import scope, tsquery
from trellis.records.search_rarity import key_word
from trellis.records.search_snippets import Snippet, marked, snippet, word_starts
from trellis.records.search_terms import field_text, searchable_fields, words_of
from trellis.records.tables import records, search_terms

PER_OBJECT = 10
SUGGESTIONS = 8
#: At most this many search rows of an object (its records' fields holding the key
#: word) are ranked by a search, and by a type-ahead: ranking every match of a common
#: word is what made it slow (benchmarks/search_bench.py). Each costs a probe of its
#: record and of its search rows; the rows come exact words first (the index's
#: order), so a few hundred give the page of ten its best.
CANDIDATES = 250
SUGGEST_CANDIDATES = 100
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
        values.update(search_candidates.key_range(key_word(connection, words)))
        rows = connection.execute(statement, {**values, **access.parameters}).all()
    pattern = word_starts(words)
    found: dict[int, list[Found]] = {}
    capped: dict[int, bool] = {}
    for row in rows:
        obj, fields = searched[row.branch]
        found.setdefault(row.branch, []).append(_found(row, obj, fields, pattern))
        capped[row.branch] = row.capped
    groups = [
        FoundGroup(
            searched[branch][0],
            hits[:per_object],
            more=len(hits) > per_object,
            capped=capped[branch],
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
    candidates, capped = search_candidates.candidates(
        access, branch, obj, names, shape.cap, shape.per_object + 1, shape.word_count
    )
    weight = sa.case((terms.c.field == readable_name_field(obj, access), NAME_WEIGHT), else_=1.0)
    # Type-ahead ranks by where the words are (the name first), without ts_rank.
    rank = weight if shape.quick else sa.func.ts_rank(terms.c.terms, tsquery("any_word")) * weight
    distinct = sa.select(candidates.c.record_id).distinct().subquery("candidate")
    every_word = search_candidates.every_word(terms, shape.word_count)
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
        .where(*scope(terms, tenant, obj, names), terms.c.terms.op("@@")(tsquery("any_word")))
        .group_by(terms.c.record_id)
        .having(every_word)
        .order_by(sa.literal_column("rank").desc(), terms.c.record_id)
        .limit(shape.per_object + 1)
        .subquery("matched")
    )
    return _shown(access, branch, obj, matched, capped)


def _shown(
    access: Access, branch: int, obj: ObjectSchema, matched: sa.Subquery, capped: Any
) -> sa.Subquery:
    """The values shown of the page's records (already through the gate, in the
    candidates), and whether the branch's candidates were capped."""
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
            capped.label("capped"),
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
