"""Writes to many records at once, each in a savepoint of its own, through the records
service: the API's bulk endpoint and the list screen's mass actions (edit, delete,
change owner) both go through here, so rules, rights, sharing, history and automations
hold for every record, and one record's refusal leaves the others saved.

A mass action reads its records' names first, as the actor may read them, so that its
summary can say which records were refused and why.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.errors import BadRequest, NotFound, TrellisError
from trellis.records.names import readable_name_field
from trellis.records.reads import parse_record_id
from trellis.records.service import RecordService
from trellis.records.tables import records

# Records one mass action may change (the screen's "all matching this view" included).
MAX_MASS = 2000
# Records written between two name reads; each record still has its own savepoint.
BATCH = 200
ACTIONS = ("edit", "delete", "owner")


def in_savepoint(connection: Connection, write: Callable[[], Any]) -> Any:
    """Run ``write`` in a savepoint: its result, or the :class:`TrellisError` that refused
    it (and nothing of it is kept)."""
    savepoint = connection.begin_nested()
    try:
        result = write()
    except TrellisError as error:
        savepoint.rollback()
        return error
    savepoint.commit()
    return result


@dataclasses.dataclass(frozen=True)
class Outcome:
    record_id: uuid.UUID
    #: The record's name as the actor may read it (its id when they may not).
    name: str
    error: TrellisError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reason(self) -> str:
        """Why the record was refused, in the words of the rule or right that refused it."""
        if self.error is None:
            return ""
        found = [message for each in self.error.fields.values() for message in each]
        return "; ".join(dict.fromkeys(found)) if found else self.error.message


@dataclasses.dataclass(frozen=True)
class Summary:
    action: str
    outcomes: list[Outcome]

    @property
    def succeeded(self) -> list[Outcome]:
        return [each for each in self.outcomes if each.ok]

    @property
    def refused(self) -> list[Outcome]:
        return [each for each in self.outcomes if not each.ok]


def record_ids(raw: Iterable[str]) -> list[uuid.UUID]:
    """Ids sent by a form or a client, each once, in order; a malformed one is a 400."""
    try:
        ids = list(dict.fromkeys(parse_record_id(each) for each in raw))
    except NotFound as error:
        raise BadRequest(error.message, fields={"ids": "Not a record id."}) from None
    if not ids:
        raise BadRequest("Select at least one record.", fields={"ids": "Required."})
    if len(ids) > MAX_MASS:
        raise BadRequest(
            f"At most {MAX_MASS:,} records at a time; narrow the view first.",
            code="too_many_records",
            fields={"ids": f"{len(ids):,} selected; the limit is {MAX_MASS:,}."},
        )
    return ids


def mass_action(
    service: RecordService, action: str, ids: list[uuid.UUID], values: dict[str, Any]
) -> Summary:
    """Apply ``action`` to each record: ``edit`` writes ``values``, ``delete`` moves it
    to the recycle bin, ``owner`` gives it to ``values["owner_id"]``. Each record is one
    :meth:`RecordService.update` or :meth:`~RecordService.delete` in its own savepoint."""
    if action not in ACTIONS:
        raise BadRequest("Edit, delete or change owner.", fields={"action": "Unknown action."})
    writes: dict[str, Callable[[uuid.UUID], Any]] = {
        "edit": lambda record_id: service.update(record_id, values),
        "delete": service.delete,
        "owner": lambda record_id: service.update(record_id, {"owner_id": values["owner_id"]}),
    }
    write = writes[action]
    outcomes: list[Outcome] = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        names = record_names(service, batch)
        for record_id in batch:
            result = in_savepoint(service.connection, functools.partial(write, record_id))
            error = result if isinstance(result, TrellisError) else None
            outcomes.append(Outcome(record_id, names.get(record_id, str(record_id)), error))
    if action == "delete":
        audit_deleted(service, [each.record_id for each in outcomes if each.ok])
    return Summary(action, outcomes)


def audit_deleted(service: RecordService, ids: list[Any]) -> None:
    """The audit entry of records deleted together (none when none were)."""
    if ids:
        record_audit(
            service.connection,
            service.actor,
            "records.bulk_deleted",
            target_type=service.obj.api_name,
            details={"count": len(ids), "ids": [str(each) for each in ids]},
        )


def record_names(service: RecordService, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of the records ``ids`` the actor may read (by the object's name field,
    where field-level security lets them read it)."""
    name = readable_name_field(service.obj, service.access)
    if name is None or not ids:
        return {}
    readable = service.access.predicate(service.obj, "read")
    statement = sa.select(records.c.id, records.c.data[name].astext).where(
        records.c.tenant_id == service.actor.tenant_id,
        records.c.object_id == service.obj.id,
        records.c.id == sa.any_(sa.literal(ids, ARRAY(UUID(as_uuid=True)))),
        *([] if readable is None else [readable]),
    )
    rows = service.connection.execute(statement, service.access.parameters)
    return {row[0]: str(row[1]) for row in rows if row[1]}
