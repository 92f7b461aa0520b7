"""Which searched word is the rarest, estimated cheaply: a multi-word search starts from
the records holding that word (trellis.records.global_search), so the fewer they are,
the more of the records holding every word are among the candidates it ranks.

The estimate is PostgreSQL's own: ``ANALYZE`` keeps the most common lexemes of
``search_terms.terms`` and the share of rows holding each (``pg_stats``). A searched word
is a prefix, so its share is the sum of the shares of the common lexemes it starts; a
word that starts none is rarer than every common one. The statistics are the table's
(every tenant's words), read once per ten minutes per engine: they only change with an
``ANALYZE``, and a wrong guess costs speed or recall, never a wrong answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

#: How long the statistics read are used before they are read again.
STATISTICS_SECONDS = 600.0
# Under RLS pg_stats hides a table's statistics: read them as the search does, as the
# reader role (trellis.db.index_friendly_reads). Without statistics there are no rows.
_STATISTICS = sa.text(
    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
    "WHERE schemaname = current_schema() AND tablename = 'search_terms' "
    "AND attname = 'terms' AND most_common_elems IS NOT NULL"
)
_READ: dict[Engine, tuple[float, dict[str, float]]] = {}


def rarest(words: list[str], shares: Mapping[str, float]) -> str:
    """The word of ``words`` (prefixes) starting the smallest share of rows by
    ``shares`` (lexeme: share of rows holding it); on a tie, the longest."""

    def share(word: str) -> float:
        return sum(value for lexeme, value in shares.items() if lexeme.startswith(word))

    return min(words, key=lambda word: (share(word), -len(word)))


def key_word(connection: Connection, words: list[str]) -> str:
    """The word a search of ``words`` starts from (the only one, or the rarest)."""
    if len(words) == 1:
        return words[0]
    return rarest(words, _shares(connection))


def _shares(connection: Connection) -> dict[str, float]:
    engine = connection.engine
    now = time.monotonic()
    kept = _READ.get(engine)
    if kept is not None and kept[0] > now:
        return kept[1]
    row = connection.execute(_STATISTICS).first()
    # The frequencies array ends with three summary numbers (min, max, null share).
    shares = dict(zip(row[0], row[1], strict=False)) if row is not None else {}
    _READ[engine] = (now + STATISTICS_SECONDS, shares)
    return shares
