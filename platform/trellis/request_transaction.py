"""One tenant transaction per authenticated request.

Authentication already needs a transaction in the caller's tenant: the token or
session lookup runs under row-level security. Rather than commit it and open a
second one for the view, the request keeps it, and the view's first
:func:`tenant` block continues it. A typical API call therefore costs one pool
checkout, one ``BEGIN``, one ``set_config`` and one ``COMMIT`` instead of two of
each, which is most of the gap between a generated endpoint and a hand-written one.

A view's block still commits (or rolls back) when it ends, exactly as a fresh
transaction would; a later block in the same request gets a transaction of its own.
If the view never opens one, the authentication transaction (which may hold a
token's ``last_used_at``) is committed when the request ends.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

from flask import Flask, g
from sqlalchemy.engine import Connection

from trellis.db import Database, transaction

log = logging.getLogger(__name__)
_KEY = "_trellis_request_transaction"
_ENCLOSING = "_trellis_enclosing_transaction"


def begin(database: Database, tenant_id: uuid.UUID) -> Connection:
    """Open the request's transaction in ``tenant_id`` (authentication runs in it)."""
    release()
    connection = database.connect(tenant_id)
    setattr(g, _KEY, (tenant_id, connection))
    return connection


@contextlib.contextmanager
def tenant(database: Database, tenant_id: uuid.UUID) -> Iterator[Connection]:
    """A transaction in ``tenant_id``: the request's own if it is still open, else a new
    one. Commits when the block succeeds, rolls back when it raises."""
    enclosing = g.get(_ENCLOSING)
    if enclosing is not None and enclosing[0] == tenant_id:
        yield enclosing[1]  # the enclosing block commits or rolls back
        return
    held = g.pop(_KEY, None)
    if held is not None and held[0] != tenant_id:
        _end(held[1], commit=True)
        held = None
    connection = held[1] if held is not None else database.connect(tenant_id)
    with transaction(connection):
        yield connection


@contextlib.contextmanager
def enclosing(database: Database, tenant_id: uuid.UUID) -> Iterator[Connection]:
    """A :func:`tenant` transaction that the view's own :func:`tenant` blocks join
    instead of committing: for a write whose answer is stored beside it in the same
    transaction (trellis.api.idempotency), so that either both are kept or neither."""
    with tenant(database, tenant_id) as connection:
        setattr(g, _ENCLOSING, (tenant_id, connection))
        try:
            yield connection
        finally:
            g.pop(_ENCLOSING, None)


def release(commit: bool = True) -> None:
    """End the request's transaction if no view took it."""
    held = g.pop(_KEY, None)
    if held is not None:
        _end(held[1], commit=commit)


def _end(connection: Connection, *, commit: bool) -> None:
    try:
        if commit and connection.in_transaction():
            connection.commit()
    finally:
        connection.close()  # back to the pool; anything uncommitted is rolled back


def init_app(app: Flask) -> None:
    @app.teardown_request
    def end_request_transaction(error: BaseException | None) -> None:
        try:
            release(commit=error is None)
        except Exception:
            log.warning("could not end the request transaction", exc_info=True)
