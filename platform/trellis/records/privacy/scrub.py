"""Taking an erased person's values out of the copies the records service keeps.

Every write leaves the values it changed in ``record_history`` (``changes``: old and new
by field) and in its outbox event (``payload``: ``changes``, ``record`` and ``prior``,
which webhook deliveries send, retries and replays included). Erasing a person's data
from a record would leave all of it there, so the erasure replaces those values with
null, in its own transaction, after its own writes (whose history and events hold the
values once more).

History is otherwise never changed once written: this module is the one exception, and
a test holds it to that. (The application role may update ``record_history``: it is not
among the append-only tables of trellis.db, which are the audit trail's.)
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from trellis.records.tables import events, record_history

# The parts of an event's payload that hold field values: changes as in history, and
# the record as saved and as it was, by field.
_PAYLOAD_CHANGES = "changes"
_PAYLOAD_RECORDS = ("record", "prior")


@dataclasses.dataclass(frozen=True)
class Scrub:
    """Which values of one record's ``fields`` to hide: with ``addresses``, those equal to
    one of them (any case); without, every value but the one the field holds now
    (``kept``: blank, or the placeholder that replaced the person's)."""

    record_id: uuid.UUID
    fields: frozenset[str]
    addresses: frozenset[str] | None = None
    kept: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def hides(self, field: str, value: Any) -> bool:
        if value is None or field not in self.fields:
            return False
        if self.addresses is None:
            return bool(value != self.kept.get(field))
        return isinstance(value, str) and value.lower() in self.addresses

    def values(self, values: Any) -> Any:
        """A ``{field: value}`` object with the hidden values null."""
        if not isinstance(values, dict):
            return values
        return {name: None if self.hides(name, value) else value for name, value in values.items()}

    def changes(self, changes: Any) -> Any:
        """A ``{field: [old, new]}`` object with the hidden values null."""
        if not isinstance(changes, dict):
            return changes
        return {
            name: [None if self.hides(name, value) else value for value in pair]
            if isinstance(pair, list)
            else pair
            for name, pair in changes.items()
        }

    def payload(self, payload: Any) -> Any:
        """An outbox event's payload with the hidden values null."""
        if not isinstance(payload, dict):
            return payload
        scrubbed = {**payload, _PAYLOAD_CHANGES: self.changes(payload.get(_PAYLOAD_CHANGES))}
        for part in _PAYLOAD_RECORDS:
            if part in payload:
                scrubbed[part] = self.values(payload[part])
        return scrubbed


@dataclasses.dataclass(frozen=True)
class Scrubbed:
    history_rows: int
    events: int


def scrub_copies(
    connection: Connection, tenant_id: uuid.UUID, scrubs: Sequence[Scrub], *, apply: bool
) -> Scrubbed:
    """Hide the values of ``scrubs`` in history and events (or, without ``apply``, count
    the rows that hold them)."""
    by_record = {scrub.record_id: scrub for scrub in scrubs if scrub.fields}
    return Scrubbed(
        history_rows=_rewrite(
            connection,
            tenant_id,
            record_history,
            record_history.c.changes,
            by_record,
            lambda scrub, changes: scrub.changes(changes),
            apply=apply,
        ),
        events=_rewrite(
            connection,
            tenant_id,
            events,
            events.c.payload,
            by_record,
            lambda scrub, payload: scrub.payload(payload),
            apply=apply,
        ),
    )


def _rewrite(
    connection: Connection,
    tenant_id: uuid.UUID,
    table: sa.Table,
    column: sa.Column[Any],
    by_record: Mapping[uuid.UUID, Scrub],
    rewrite: Callable[[Scrub, Any], Any],
    *,
    apply: bool,
) -> int:
    """Rewrite ``column`` of the ``table`` rows of the scrubbed records; the rows changed."""
    if not by_record:
        return 0
    query = sa.select(table.c.id, table.c.record_id, column.label("value")).where(
        table.c.tenant_id == tenant_id, table.c.record_id.in_(list(by_record))
    )
    # Locked: the outbox dispatcher must not hand an event on half way through.
    rows = connection.execute(query.with_for_update() if apply else query).all()
    changed = _changed(rows, by_record, rewrite)
    if apply and changed:
        connection.execute(
            table.update()
            .where(table.c.tenant_id == tenant_id, table.c.id == sa.bindparam("row_id"))
            .values({column.name: sa.bindparam("scrubbed", type_=JSONB)}),
            [{"row_id": row_id, "scrubbed": value} for row_id, value in changed],
        )
    return len(changed)


def _changed(
    rows: Iterable[sa.Row[*tuple[Any, ...]]],
    by_record: Mapping[uuid.UUID, Scrub],
    rewrite: Callable[[Scrub, Any], Any],
) -> list[tuple[int, Any]]:
    changed = []
    for row in rows:
        scrubbed = rewrite(by_record[row.record_id], row.value)
        if scrubbed != row.value:
            changed.append((row.id, scrubbed))
    return changed
