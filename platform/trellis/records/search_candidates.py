"""The candidates of one object's search: the only records a global search ranks
(trellis.records.global_search), taken from the B-tree of words (``search_words``,
migration 0017) so that a common word costs no more than a rare one.

Ranking every match of a word in 30 % of a million records took 2.3 s, and a GIN scan
reads every match before its first row (a word in 1.6 % of them: 63 ms in the index
alone). The key word's rows are read in the primary key's order instead (the words
its prefix starts, in "C" order, then by record), and the scan stops at its bound:

- ``examined``: the first ``cap + 1`` rows holding the key word in a field the reader
  may read, from the index alone;
- the candidates are those of them whose record the access gate lets the reader read
  (and not deleted), with the first ``per_object + 1`` readable records holding the
  key word, and every other searched word, anywhere after them.

The gate cannot be in the bounded scan itself: for a rep reading 1 % of the records a
common word's first thousand readable rows are a hundred thousand rows in, each a
probe of its record. Nor only after it: the bound would then hold the records of
others, and a rep would find nothing where they may read some. So the bound holds
everyone's rows, and the second part, a scan that stops at the page's size, makes
sure the reader still finds their own (its cost grows with the key word's rows before
the reader's page: at worst, every row of the rarest searched word).

The group says it was ``capped`` (more records may hold the words than were ranked)
when the bound was reached and the reader may read a full page of records holding the
words: a rep is never told that others' records match.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

import sqlalchemy as sa

from trellis.access.gate import Access
from trellis.metadata.compiled import ObjectSchema
from trellis.records.query import written_out
from trellis.records.search_terms import SEARCH_CONFIG
from trellis.records.tables import records, search_terms
from trellis.records.tables import search_words as word_rows


def key_range(prefix: str) -> dict[str, str]:
    """The statement's parameters for the words ``prefix`` starts: a range in "C" order."""
    return {"key_from": prefix, "key_to": _after_prefix(prefix)}


def _after_prefix(prefix: str) -> str:
    """The first text (in "C" order: code points) after every text that starts with
    ``prefix``: its last character's successor (past the surrogates, which no text
    holds); a last character without one is dropped and the one before it raised."""
    last = ord(prefix[-1]) + 1
    if last > sys.maxunicode:
        return _after_prefix(prefix[:-1]) if len(prefix) > 1 else chr(sys.maxunicode) * 2
    return prefix[:-1] + chr(0xE000 if 0xD800 <= last < 0xE000 else last)


def tsquery(parameter: str) -> sa.ColumnElement[Any]:
    """The text search query of the statement's parameter ``parameter``."""
    return sa.func.to_tsquery(
        sa.literal_column(f"'{SEARCH_CONFIG}'::regconfig"), sa.bindparam(parameter, type_=sa.Text)
    )


def every_word(terms: Any, word_count: int) -> Any:
    """Over a record's search rows ``terms`` (an aggregate): each searched word is in
    one of them (``word_0`` … as the statement's parameters)."""
    return sa.and_(
        *(
            sa.func.bool_or(terms.c.terms.op("@@")(tsquery(f"word_{index}")))
            for index in range(word_count)
        )
    )


def scope(
    rows: Any, tenant: uuid.UUID, obj: ObjectSchema, names: list[str]
) -> tuple[sa.ColumnElement[bool], ...]:
    """The search rows of ``obj``'s fields ``names`` (tenant and object written out)."""
    return (
        rows.c.tenant_id == written_out(tenant),
        rows.c.object_id == written_out(obj.id),
        rows.c.field.in_(names),
    )


def candidates(
    access: Access,
    branch: int,
    obj: ObjectSchema,
    names: list[str],
    cap: int,
    page: int,
    word_count: int,
) -> tuple[sa.CTE, Any]:
    """The candidates (record ids) of one branch, ``page`` readable ones with every word
    at least when there are, and whether it was capped (a boolean SQL expression)."""
    tenant = access.actor.tenant_id
    examined = (
        _holding_key_word(tenant, obj, names, "examined_words")
        .limit(cap + 1)  # one more: were there more than ``cap``?
        .cte(f"examined_{branch}")
    )
    holding = _holding_key_word(tenant, obj, names, "readable_words")
    first_readable = _readable(access, obj, holding, holding.selected_columns.record_id)
    if word_count > 1:
        # The other words too, checked on the record (after the gate: a probe of the
        # record's search rows only for those the reader may read).
        first_readable = first_readable.where(_with_every_word(tenant, obj, names, word_count))
    first_readable_rows = first_readable.limit(page).cte(f"first_readable_{branch}")
    found = sa.union(
        _readable(access, obj, sa.select(examined.c.record_id), examined.c.record_id),
        sa.select(first_readable_rows.c.record_id),
    )
    return found.cte(f"candidates_{branch}"), _capped(examined, first_readable_rows, cap, page)


def _capped(examined: sa.CTE, first_readable: sa.CTE, cap: int, page: int) -> Any:
    """Whether more records the reader may read may hold the key word than were ranked:
    the bound was reached and a full page of readable ones found. Only the second says
    anything of what the reader may not read, and only that they may read a page."""
    return sa.and_(
        sa.select(sa.func.count()).select_from(examined).scalar_subquery() > cap,
        sa.select(sa.func.count()).select_from(first_readable).scalar_subquery() >= page,
    )


def _holding_key_word(
    tenant: uuid.UUID, obj: ObjectSchema, names: list[str], alias: str
) -> sa.Select[Any]:
    """The rows holding the key word in fields ``names``, in the index's order."""
    key = word_rows.alias(alias)
    return (
        sa.select(key.c.record_id)
        .where(
            *scope(key, tenant, obj, names),
            key.c.word >= sa.bindparam("key_from", type_=sa.Text),
            key.c.word < sa.bindparam("key_to", type_=sa.Text),
        )
        .order_by(key.c.word, key.c.record_id)
    )


def _with_every_word(
    tenant: uuid.UUID, obj: ObjectSchema, names: list[str], word_count: int
) -> Any:
    """Whether the joined record has every word in its readable fields."""
    terms = search_terms.alias("every_terms")
    return (
        sa.select(every_word(terms, word_count))
        .where(*scope(terms, tenant, obj, names), terms.c.record_id == records.c.id)
        .scalar_subquery()
    )


def _readable(
    access: Access, obj: ObjectSchema, query: sa.Select[Any], record_id: Any
) -> sa.Select[Any]:
    """``query`` kept to the records the gate lets the reader read, not deleted."""
    tenant = access.actor.tenant_id
    readable = access.predicate(obj, "read")
    return query.join(
        records,
        sa.and_(records.c.tenant_id == written_out(tenant), records.c.id == record_id),
    ).where(records.c.deleted_at.is_(None), *([] if readable is None else [readable]))
