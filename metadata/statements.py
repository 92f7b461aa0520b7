"""Statements built once per metadata revision, under typed keys.

Building a SQLAlchemy statement costs more Python than running its compiled form, so
hot paths (a record read, a create, a list page) build theirs once per revision and
request shape — with bind parameters for the values — and keep them here. Every such
statement has a :class:`StatementKey` naming what it is, so two modules can never
collide on an ad-hoc tuple.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
import uuid
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

# A revision lives long and request shapes are chosen by callers: keep at most this
# many statements per revision, the oldest dropped first.
STATEMENT_LIMIT = 1000


class Statement(enum.Enum):
    """What a cached statement is for."""

    RECORD_JSON = "record_json"  # the JSON text of a record, per projection
    RECORD_ROW = "record_row"  # one record's row, by purpose and locking
    CREATE = "create"  # the one-statement create of records, history and events
    COLUMN = "column"  # a field (or path) as a SQL column of the list query
    LIST_PAGE = "list_page"  # a list page, per request shape
    LIST_COUNT = "list_count"  # a list's total count, per filter scope
    SHARE_RULE = "share_rule"  # a sharing rule's INSERT … SELECT of its shares
    ACCESS_SHAPE = "access_shape"  # what one set of rights restricts (trellis.access.gate)
    NAME_SEARCH = "name_search"  # records whose name has the words, per word count
    GLOBAL_SEARCH = "global_search"  # records with the words in fields the reader may read
    RECENT_RECORDS = "recent_records"  # a user's recently viewed records, as they may read
    READER_VIEW = "reader_view"  # a list view as readers of one access shape see it
    BOARD_TOTALS = "board_totals"  # a board's count and sum per column, per filter scope


@dataclasses.dataclass(frozen=True)
class StatementKey:
    """A statement of one object (and tenant, where its SQL names one) and shape."""

    statement: Statement
    object_id: uuid.UUID
    shape: Hashable = ()


class StatementCache:
    """The statements of one metadata revision (thread-safe; bounded)."""

    def __init__(self, limit: int = STATEMENT_LIMIT) -> None:
        self._limit = limit
        self._built: dict[StatementKey, object] = {}
        self._lock = threading.Lock()

    def get(self, key: StatementKey, build: Callable[[], T]) -> T:
        """The statement under ``key``, built by ``build()`` the first time."""
        found = self._built.get(key)
        if found is None:
            found = build()
            with self._lock:
                if len(self._built) >= self._limit:
                    del self._built[next(iter(self._built))]
                self._built[key] = found
        return found  # type: ignore[return-value]  # stored by this same key's build

    def __len__(self) -> int:
        return len(self._built)
