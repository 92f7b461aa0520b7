"""Writing one batch of an import's rows through the records service: new records
together (``RecordService.create_many``, the path of the API's bulk create: one
statement for the batch), updates one by one, each in a savepoint of its own so that its
failure is its own, as the bulk API does. Types, required fields, validation rules,
uniqueness, lookups, permissions, history, outbox events and automations hold for every
row because the service applies them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Connection

from trellis.errors import TrellisError
from trellis.imports.cells import Row, find_existing, label, read_cells, resolve_lookups
from trellis.imports.mapping import Column
from trellis.metadata.compiled import ObjectSchema
from trellis.records.service import RecordService
from trellis.records.uniqueness import stored_text


@dataclasses.dataclass(frozen=True)
class Plan:
    """What every batch of one import shares: the mapped columns, the width of the
    header, and the upsert's key field (None: insert, rows with an id update)."""

    columns: list[Column]
    width: int
    key_field: str | None


@dataclasses.dataclass
class Outcome:
    """What became of a batch: counts and the refused rows with their reasons."""

    created: int = 0
    updated: int = 0
    rejected: list[tuple[Row, str]] = dataclasses.field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.created += other.created
        self.updated += other.updated
        self.rejected.extend(other.rejected)


class Repeats:
    """The unique fields' values earlier batches of a dry run held: those batches were
    rolled back, so the records service cannot see them, but a real import would."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def reject(self, obj: ObjectSchema, rows: list[Row]) -> None:
        for row in rows:
            for field in obj.writes.unique:
                value = row.values.get(field.api_name)
                if row.errors or value is None:
                    continue
                key = (field.api_name, stored_text(value))
                first = self.seen.setdefault(key, row.number)
                if first != row.number:
                    row.errors.append(f"{label(field)}: row {first} of the file has this value.")


def reason(service: RecordService, error: TrellisError) -> str:
    """An error of the records service as one line: its message and each field's
    problem, fields named by label."""
    parts = []
    for name, messages in error.fields.items():
        field = service.obj.find(name)
        parts.append(f"{label(field) if field else name}: {' '.join(messages)}")
    return f"{error.message} {'; '.join(parts)}".strip() if parts else error.message


def write_batch(
    connection: Connection,
    service: RecordService,
    plan: Plan,
    rows: list[Row],
    repeats: Repeats | None = None,
) -> Outcome:
    """Write ``rows``: each is created, updated or rejected with the reason."""
    read_cells(rows, plan.columns, plan.width)
    if repeats is not None:
        repeats.reject(service.obj, rows)
    resolve_lookups(connection, service.access, service.schema, rows, plan.columns)
    find_existing(connection, service.access, service.obj, rows, plan.key_field)
    outcome = Outcome()
    fresh = [row for row in rows if not row.errors and row.record_id is None]
    updates = [row for row in rows if not row.errors and row.record_id is not None]
    outcome.rejected.extend((row, " ".join(row.errors)) for row in rows if row.errors)
    if fresh:
        _create(service, fresh, outcome)
    for row in updates:
        _update(connection, service, row, outcome)
    return outcome


def _create(service: RecordService, rows: list[Row], outcome: Outcome) -> None:
    try:
        results: list[Any] = service.create_many([row.values for row in rows])
    except TrellisError as error:  # the batch as a whole is refused (e.g. no create right)
        outcome.rejected.extend((row, reason(service, error)) for row in rows)
        return
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, TrellisError):
            outcome.rejected.append((row, reason(service, result)))
        else:
            outcome.created += 1


def _update(connection: Connection, service: RecordService, row: Row, outcome: Outcome) -> None:
    savepoint = connection.begin_nested()
    try:
        service.update(row.record_id, row.values)
    except TrellisError as error:
        savepoint.rollback()
        outcome.rejected.append((row, reason(service, error)))
        return
    savepoint.commit()
    outcome.updated += 1
