"""The stored answers of idempotent API writes (table ``idempotency_keys``, migration
0018): found, saved and purged in the caller's tenant transaction."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.engine import Connection

from trellis.db import metadata

#: How long an answer is replayed for (Stripe keeps keys for 24 hours too).
KEPT_FOR = datetime.timedelta(hours=24)

_uuid = UUID(as_uuid=True)
_timestamp = sa.DateTime(timezone=True)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", _uuid, primary_key=True),
    sa.Column("principal", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("headers", JSONB, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", _timestamp, nullable=False, server_default=sa.text("now()")),
    sa.Column("expires_at", _timestamp, nullable=False),
)


@dataclasses.dataclass(frozen=True)
class Scope:
    """Whose key it is: one tenant's one actor (a user, or a token acting for none)."""

    tenant_id: uuid.UUID
    principal: str
    key: str

    @property
    def lock_key(self) -> str:
        return f"idempotency:{self.tenant_id}:{self.principal}:{self.key}"


@dataclasses.dataclass(frozen=True)
class Answer:
    fingerprint: str
    status: int
    headers: dict[str, str]
    body: str


def claim(connection: Connection, scope: Scope) -> bool:
    """Hold the key until the transaction ends; False when another request holds it."""
    lock = sa.func.pg_try_advisory_xact_lock(sa.func.hashtextextended(scope.lock_key, 0))
    return bool(connection.execute(sa.select(lock)).scalar_one())


def _is(scope: Scope) -> list[sa.ColumnElement[bool]]:
    return [
        idempotency_keys.c.tenant_id == scope.tenant_id,
        idempotency_keys.c.principal == scope.principal,
        idempotency_keys.c.key == scope.key,
    ]


def stored_answer(connection: Connection, scope: Scope) -> Answer | None:
    """The answer kept for ``scope`` and not yet expired (call :func:`claim` first: the
    request that held the key has then committed it, or given it up)."""
    columns = idempotency_keys.c
    row = connection.execute(
        sa.select(columns.fingerprint, columns.status, columns.headers, columns.body).where(
            *_is(scope), columns.expires_at > sa.func.now()
        )
    ).first()
    return None if row is None else Answer(row.fingerprint, row.status, row.headers, row.body)


def save_answer(connection: Connection, scope: Scope, answer: Answer) -> None:
    """Keep ``answer`` for :data:`KEPT_FOR`, replacing an expired one of the same key."""
    values: dict[str, Any] = {
        "fingerprint": answer.fingerprint,
        "status": answer.status,
        "headers": answer.headers,
        "body": answer.body,
        "created_at": sa.func.now(),
        "expires_at": sa.func.now() + KEPT_FOR,
    }
    statement = insert(idempotency_keys).values(
        tenant_id=scope.tenant_id, principal=scope.principal, key=scope.key, **values
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "principal", "key"], set_=values
        )
    )


def purge_expired(connection: Connection, tenant_id: uuid.UUID) -> int:
    """Delete the tenant's expired keys; how many."""
    result = connection.execute(
        idempotency_keys.delete().where(
            idempotency_keys.c.tenant_id == tenant_id,
            idempotency_keys.c.expires_at <= sa.func.now(),
        )
    )
    return int(result.rowcount)
