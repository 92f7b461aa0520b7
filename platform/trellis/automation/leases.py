"""Which runs a worker is executing right now: a lease per run, as a PostgreSQL lock.

A worker holds a session advisory lock for a run while it executes it, on a connection
of its own that is outside any transaction. PostgreSQL releases the lock the moment
that connection ends, and a worker that is killed (SIGKILL, out of memory, a lost
machine) loses its connections with it. So a run that is ``running`` while nobody holds
its lock was abandoned part-way: it is safe to hand to another worker, which skips the
actions already recorded as done. No lease length has to be guessed, and a slow but
alive worker is never taken over.

The same lock keeps two deliveries of one run (a hand-off sent again while the first
is still executing) from running its actions side by side.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from trellis.db import Database

# The two-key form of the advisory lock (namespace, run): the one-key form is used
# elsewhere with hashed keys, and pg_locks tells the two forms apart (objsubid 2 vs 1).
NAMESPACE = 0x54524E52  # "TRNR"
_KEY_SPACE = 2**31  # the second key is an int4; run ids wrap (a clash only delays)

pg_locks = sa.table(
    "pg_locks",
    sa.column("locktype"),
    sa.column("database"),
    sa.column("classid"),
    sa.column("objid"),
    sa.column("objsubid"),
    sa.column("granted"),
)
pg_database = sa.table("pg_database", sa.column("oid"), sa.column("datname"))


def _key(run_id: int) -> int:
    return run_id % _KEY_SPACE


@contextlib.contextmanager
def run_lease(database: Database, run_id: int, namespace: int = NAMESPACE) -> Iterator[bool]:
    """Hold the run's lease while the block runs; yields False when another worker
    holds it (that worker finishes the run, so the caller should leave it alone).
    Other long jobs (CSV imports) lease theirs in a ``namespace`` of their own."""
    with database.connect(None, autocommit=True) as connection:
        held = connection.execute(
            sa.select(sa.func.pg_try_advisory_lock(namespace, _key(run_id)))
        ).scalar()
        try:
            yield bool(held)
        finally:
            if held:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(namespace, _key(run_id))))


def lease_held(run_id_column: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """SQL: some session of this database holds the lease of the run in ``run_id_column``."""
    return sa.exists().where(
        pg_locks.c.locktype == "advisory",
        pg_locks.c.granted.is_(True),
        pg_locks.c.database
        == sa.select(pg_database.c.oid)
        .where(pg_database.c.datname == sa.func.current_database())
        .scalar_subquery(),
        sa.cast(pg_locks.c.classid, sa.BigInteger) == NAMESPACE,
        sa.cast(pg_locks.c.objid, sa.BigInteger) == run_id_column % _KEY_SPACE,
        pg_locks.c.objsubid == 2,
    )
