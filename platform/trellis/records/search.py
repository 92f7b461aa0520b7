"""Search by name: the records whose name field holds every word searched for, over the
objects the reader may read, in one statement with the access gate in it.

Each readable object with a readable name field contributes one branch (its records
whose name contains every word, case-insensitively, best matches first, at most
``per_object + 1`` so the screen can say there are more); the branches are joined with
``UNION ALL``. The statement is built once per revision, access shape and number of
words; the words are its parameters. Global full-text search, over every text field,
is a later piece: this finds what a user would type from a record's name.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.db import index_friendly_reads
from trellis.errors import BadRequest
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey
from trellis.records.names import name_sql
from trellis.records.query import written_out
from trellis.records.tables import records

MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
PER_OBJECT = 10


@dataclasses.dataclass(frozen=True)
class SearchHit:
    id: uuid.UUID
    name: str


@dataclasses.dataclass(frozen=True)
class SearchGroup:
    """The hits of one object, and whether it has more than were returned."""

    object: ObjectSchema
    hits: list[SearchHit]
    more: bool


def search_words(text: str) -> list[str]:
    """The distinct words of a search (ignoring case), in order; a search too long to be a
    name, or of too many words, is a clear 400."""
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequest(
            f"Search for at most {MAX_QUERY_LENGTH} characters.",
            code="search_too_long",
            fields={"q": f"At most {MAX_QUERY_LENGTH} characters."},
        )
    if "\x00" in text:
        raise BadRequest("Search text cannot contain the NUL character.", fields={"q": "Bad text."})
    words: dict[str, str] = {}
    for word in text.split():
        words.setdefault(word.lower(), word)
    refuse_too_many_words(len(words))
    return list(words.values())


def refuse_too_many_words(count: int) -> None:
    """A clear 400 for a search of more than :data:`MAX_WORDS` words."""
    if count > MAX_WORDS:
        raise BadRequest(
            f"Search for at most {MAX_WORDS} words.",
            code="search_too_long",
            fields={"q": f"At most {MAX_WORDS} words."},
        )


def _like(word: str, prefix: bool = False) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"


def search_names(
    connection: Connection,
    access: Access,
    schema: TenantSchema,
    objects: list[ObjectSchema],
    words: list[str],
    per_object: int = PER_OBJECT,
) -> list[SearchGroup]:
    """The records of ``objects`` named with every one of ``words``, grouped by object in
    the order given; objects the reader may not read, whose name they may not read, or
    without a hit are left out."""
    searched = [
        obj
        for obj in objects
        if access.rights.has(obj.api_name, "read") and name_sql(obj, access) is not None
    ]
    if not words or not searched:
        return []
    shape = (
        access.actor.tenant_id,
        access.shape,
        tuple(obj.id for obj in searched),
        len(words),
        per_object,
    )
    statement = schema.statements.get(
        StatementKey(Statement.NAME_SEARCH, uuid.UUID(int=0), shape),
        lambda: _statement(access, searched, len(words), per_object),
    )
    values = {f"word_{index}": _like(word) for index, word in enumerate(words)}
    values["first_word"] = _like(words[0], prefix=True)
    with index_friendly_reads(connection):  # every branch carries its tenant predicate
        rows = connection.execute(statement, {**values, **access.parameters}).all()
    found: dict[int, list[SearchHit]] = {}
    for row in rows:
        found.setdefault(row.branch, []).append(SearchHit(row.id, row.name))
    return [
        SearchGroup(searched[branch], hits[:per_object], len(hits) > per_object)
        for branch, hits in sorted(found.items())
    ]


def _statement(
    access: Access, objects: list[ObjectSchema], word_count: int, per_object: int
) -> sa.CompoundSelect[Any]:
    branches = []
    for branch, obj in enumerate(objects):
        name_text = name_sql(obj, access)
        assert name_text is not None  # search_names keeps only objects with a readable name
        name = sa.literal_column(name_text, sa.Text)
        readable = access.predicate(obj, "read")
        # Names that start with the first word come first, then by name.
        rank = sa.case(
            (name.ilike(sa.bindparam("first_word", type_=sa.Text), escape="\\"), 0), else_=1
        )
        order = (rank, sa.func.lower(name), records.c.id)
        query = (
            sa.select(
                sa.literal_column(str(branch), sa.Integer).label("branch"),
                records.c.id,
                name.label("name"),
                rank.label("rank"),
                sa.func.lower(name).label("sort_name"),
            )
            .where(
                records.c.tenant_id == written_out(access.actor.tenant_id),
                records.c.object_id == written_out(obj.id),
                records.c.deleted_at.is_(None),
                *(
                    name.ilike(sa.bindparam(f"word_{index}", type_=sa.Text), escape="\\")
                    for index in range(word_count)
                ),
                *([] if readable is None else [readable]),
            )
            .order_by(*order)
            .limit(per_object + 1)
            .subquery(f"branch_{branch}")
        )
        # Each branch's own order and limit, inside a subquery of its own.
        branches.append(sa.select(*query.c))
    return sa.union_all(*branches).order_by(
        *(sa.literal_column(column) for column in ("branch", "rank", "sort_name", "id"))
    )
