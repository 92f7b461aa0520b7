"""What a list screen reads on every page (the reader's views of an object and their
column choice), kept per process against the tenant's list views stamp.

The stamp moves in the transaction of every change to a view or a choice
(:func:`trellis.identity.tenants.move_list_views_stamp`), and the session lookup reads
it at the start of each screen's transaction, joined to the tenant's row it reads
anyway. A page whose stamp matches the kept entry's skips a statement; any other reads
and keeps afresh. Entries are what the statement returned, before anything that
depends on the reader's rights is applied, so a change of rights needs no stamp.

Under READ COMMITTED what is read after the stamp is at least as new as the stamp, so
an entry is never older than the stamp it is kept under. A transaction that changes a
view stops trusting its noted stamp (it reads its own changes from then on), and keeps
nothing; a rolled-back change leaves the stamp where it was, with nothing kept under
the moved one.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection

from trellis.identity.tenants import known_list_views_stamp, move_list_views_stamp

T = TypeVar("T")
# Readers × objects × views a process keeps; the oldest kept goes first beyond it.
LIMIT = 4096
Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID, str]

_entries: dict[Key, tuple[int, object]] = {}
_lock = threading.Lock()


def kept(connection: Connection, key: Key, read: Callable[[], T]) -> T:
    """``read()``'s answer for ``key`` (tenant, object, user, view name), from the
    process's entry when the transaction's stamp is the one it was kept under."""
    stamp = known_list_views_stamp(connection, key[0])
    if stamp is None:  # no session lookup noted one (an API call, a job)
        return read()
    entry = _entries.get(key)
    if entry is not None and entry[0] == stamp:
        return entry[1]  # type: ignore[return-value]  # kept by this function for this key
    value = read()
    with _lock:
        _entries.pop(key, None)
        _entries[key] = (stamp, value)
        while len(_entries) > LIMIT:
            _entries.pop(next(iter(_entries)))
    return value


def changed(connection: Connection, tenant_id: uuid.UUID) -> None:
    """A view or a column choice of the tenant changes in this transaction."""
    move_list_views_stamp(connection, tenant_id)
