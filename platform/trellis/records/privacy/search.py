"""Every record about a person: their own record, the records of any object whose email
fields hold one of their addresses, and the records whose lookups point at their record
(one level deep). One statement per object with email fields, over each field's stored
expression, so the search runs where the data lives; records in the recycle bin count,
since their data is still held."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.errors import NotFound
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.records.privacy.subject import Person, email_fields
from trellis.records.tables import record_refs, records

RECORD_COLUMNS = (
    records.c.id,
    records.c.data,
    records.c.owner_id,
    records.c.created_at,
    records.c.created_by,
    records.c.updated_at,
    records.c.updated_by,
    records.c.version,
    records.c.deleted_at,
)
SUBJECT = "subject"
#: A row of any columns (RECORD_COLUMNS, with more for references).
RecordRow: TypeAlias = sa.Row[*tuple[Any, ...]]


@dataclasses.dataclass
class Match:
    """A record about the person, and why: ``subject``, ``email:<Field>`` (the field holds
    one of their addresses) or ``lookup:<Field>`` (the field points at their record)."""

    obj: ObjectSchema
    row: RecordRow
    reasons: list[str]

    @property
    def id(self) -> uuid.UUID:
        record_id: uuid.UUID = self.row.id
        return record_id

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.row.data
        return data

    @property
    def is_subject(self) -> bool:
        return SUBJECT in self.reasons


def find_records(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, person: Person
) -> list[Match]:
    """The person's records: their own first, then by object and age."""
    found: dict[uuid.UUID, Match] = {}

    def add(obj: ObjectSchema, row: RecordRow, reason: str) -> None:
        match = found.setdefault(row.id, Match(obj, row, []))
        if reason not in match.reasons:
            match.reasons.append(reason)

    if person.obj is not None:
        row = connection.execute(
            sa.select(*RECORD_COLUMNS).where(
                records.c.tenant_id == tenant_id, records.c.id == person.record_id
            )
        ).one()
        add(person.obj, row, SUBJECT)
    for obj in sorted(schema.objects.values(), key=lambda item: item.api_name):
        for row, field in _by_address(connection, tenant_id, obj, person.addresses):
            add(obj, row, f"email:{field}")
    if person.record_id is not None:
        for row, obj, field in _referencing(connection, tenant_id, schema, person.record_id):
            add(obj, row, f"lookup:{field}")
    return sorted(
        found.values(),
        key=lambda match: (not match.is_subject, match.obj.api_name, match.row.created_at),
    )


def _by_address(
    connection: Connection, tenant_id: uuid.UUID, obj: ObjectSchema, addresses: frozenset[str]
) -> list[tuple[RecordRow, str]]:
    """``obj``'s records with an email field holding one of ``addresses`` (any case), each
    with every field that holds one."""
    fields = email_fields(obj)
    if not fields or not addresses:
        return []
    wanted = sorted(addresses)
    # The explicit tenant predicate, as on the list path: RLS stays defence in depth.
    rows = connection.execute(
        sa.select(*RECORD_COLUMNS)
        .where(
            records.c.tenant_id == tenant_id,
            records.c.object_id == obj.id,
            sa.or_(
                *(
                    sa.func.lower(sa.literal_column(field.stored_expression("records"))).in_(wanted)
                    for field in fields
                )
            ),
        )
        .order_by(records.c.created_at, records.c.id)
    ).all()
    return [
        (row, field.api_name)
        for row in rows
        for field in fields
        if isinstance(value := row.data.get(field.api_name), str) and value.lower() in addresses
    ]


def _referencing(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, record_id: uuid.UUID
) -> list[tuple[RecordRow, ObjectSchema, str]]:
    """The records whose lookups point at ``record_id``, with the object and the lookup."""
    rows = connection.execute(
        sa.select(*RECORD_COLUMNS, record_refs.c.field, record_refs.c.source_object_id)
        .join(
            record_refs,
            sa.and_(
                record_refs.c.tenant_id == records.c.tenant_id,
                record_refs.c.source_id == records.c.id,
            ),
        )
        .where(record_refs.c.tenant_id == tenant_id, record_refs.c.target_id == record_id)
        .order_by(records.c.created_at, records.c.id)
    ).all()
    found = []
    for row in rows:
        try:
            obj = schema.by_id(row.source_object_id)
        except NotFound:
            continue  # an object deleted since: its records are no longer shown anywhere
        found.append((row, obj, row.field))
    return found
