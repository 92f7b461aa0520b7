"""Global search: one row per word of each search row, in a B-tree, kept by triggers.

The GIN index of ``search_terms`` answers a rare word at once, but a GIN scan always
reads every match before the first row comes out: a word in 1.6 % of a million records
took 63 ms in the index alone, a word in 60 % far more, however few of them a search
then ranks. ``search_words`` holds each word of each ``search_terms`` row with its
record, ordered by (tenant, object, word, record) in its primary key: a search reads
its key word's first rows in that order (a prefix is a range of words) and stops at
its bound, from the index alone (benchmarks/search_bench.py).

Statement triggers on ``search_terms`` keep the rows, from the rows each statement
inserted, changed or deleted (transition tables): every path that writes search rows
(the records service, a field's reindex, a purge's cascade) keeps the words with them,
in the same transaction, and a bulk load is one insert. The words are exactly the
lexemes of ``terms``, so the two never disagree on what a word is.

Revision ID: 0017
Revises: 0018
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from trellis.db import reader_grant_statement, tenant_rls_statements

revision = "0017"
down_revision = "0018"
branch_labels = None
depends_on = None

_uuid = UUID(as_uuid=True)

_WORDS_OF = (
    "SELECT t.tenant_id, t.object_id, word, t.record_id, t.field "
    "FROM {rows} t, unnest(tsvector_to_array(t.terms)) AS word"
)
_FUNCTIONS = {
    "search_words_added": f"INSERT INTO search_words {_WORDS_OF.format(rows='added')}",
    "search_words_removed": f"""
        DELETE FROM search_words w USING ({_WORDS_OF.format(rows="removed")}) AS gone
          (tenant_id, object_id, word, record_id, field)
        WHERE w.tenant_id = gone.tenant_id AND w.object_id = gone.object_id
          AND w.word = gone.word AND w.record_id = gone.record_id AND w.field = gone.field""",
}


def upgrade() -> None:
    op.create_table(
        "search_words",
        sa.Column("tenant_id", _uuid, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("object_id", _uuid, primary_key=True),
        # "C": a prefix is a plain byte range of the index, whatever the database's locale.
        sa.Column("word", sa.Text(collation="C"), primary_key=True),
        sa.Column("record_id", _uuid, primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
    )
    for name, body in _FUNCTIONS.items():
        op.execute(f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {body}; RETURN NULL; END $$""")
    # An update removes the old row's words and adds the new one's (two triggers, each
    # with the transition table it reads; removal first by name order).
    triggers = (
        ("a_search_words_removed", "UPDATE", "OLD TABLE AS removed", "search_words_removed"),
        ("b_search_words_added", "UPDATE", "NEW TABLE AS added", "search_words_added"),
        ("search_words_inserted", "INSERT", "NEW TABLE AS added", "search_words_added"),
        ("search_words_deleted", "DELETE", "OLD TABLE AS removed", "search_words_removed"),
    )
    for name, event, transition, function in triggers:
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON search_terms REFERENCING {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(f"INSERT INTO search_words {_WORDS_OF.format(rows='search_terms')}")
    for statement in tenant_rls_statements("search_words"):
        op.execute(statement)
    op.execute(reader_grant_statement("search_words"))


def downgrade() -> None:
    for name in (
        "a_search_words_removed",
        "b_search_words_added",
        "search_words_inserted",
        "search_words_deleted",
    ):
        op.execute(f"DROP TRIGGER {name} ON search_terms")
    for name in _FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("search_words")
