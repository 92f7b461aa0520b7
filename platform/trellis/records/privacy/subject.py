"""Who a privacy request is about: an email address, a record, or both, checked before
anything is read and resolved to the addresses every object's email fields are searched
for."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.errors import BadRequest, NotFound
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.records.tables import records

#: The ``personal_data`` capability of a field type whose values are email addresses.
EMAIL = "email"
#: The ``personal_data`` capability of a field type blanked on the person's own record.
PERSONAL = "personal"
MAX_EMAIL_LENGTH = 254  # what an email field stores at most
SUBJECT_KEYS = ("email", "object", "record")


@dataclasses.dataclass(frozen=True)
class SubjectRequest:
    """The person as a request names them, well-formed but not yet looked up."""

    email: str | None
    object_name: str | None
    record_id: uuid.UUID | None


@dataclasses.dataclass(frozen=True)
class Person:
    """The person found: their record (if named) and every address they are known by."""

    email: str | None
    obj: ObjectSchema | None
    record_id: uuid.UUID | None
    #: Lower-case: the given address and the values of their record's email fields.
    addresses: frozenset[str]

    def describe(self) -> dict[str, Any]:
        """The subject as responses show it to the administrator who named it."""
        return {
            "email": self.email,
            "object": self.obj.api_name if self.obj is not None else None,
            "record": str(self.record_id) if self.record_id is not None else None,
        }

    def audit_details(self) -> dict[str, Any]:
        """The subject as the audit trail keeps it: the trail is append-only, so it holds a
        digest of the address (enough to answer "was this address erased?"), never the
        address itself."""
        digest = hashlib.sha256(self.email.lower().encode()).hexdigest() if self.email else None
        return {**self.describe(), "email": None, "email_sha256": digest}


def parse_subject(values: Mapping[str, Any]) -> SubjectRequest:
    """``email``, or ``object`` and ``record``, or all three, from a body or a query string;
    a :class:`BadRequest` naming each malformed one."""
    email, object_name, record = (values.get(key) for key in SUBJECT_KEYS)
    errors: dict[str, str] = {}
    if email is not None and not _looks_like_email(email):
        errors["email"] = "An email address, e.g. name@example.com."
    if object_name is not None and (not isinstance(object_name, str) or not object_name.strip()):
        errors["object"] = "An object's API name, e.g. Contact."
    record_id = None
    if record is not None:
        with contextlib.suppress(ValueError):
            record_id = uuid.UUID(record) if isinstance(record, str) else None
        if record_id is None:
            errors["record"] = "A record id (a UUID)."
    if (object_name is None) != (record is None):
        missing = "object" if object_name is None else "record"
        errors.setdefault(missing, "Give the object and the record together.")
    if errors:
        raise BadRequest("The person is not named clearly.", fields=errors)
    if email is None and record_id is None:
        raise BadRequest(
            "Name the person: an email address, or an object and a record.",
            code="no_subject",
            fields={"email": "An email address, or object and record."},
        )
    return SubjectRequest(
        email.strip() if email is not None else None,
        object_name.strip() if object_name is not None else None,
        record_id,
    )


def _looks_like_email(value: Any) -> bool:
    # Only the shape: an address no field could hold simply matches nothing.
    if not isinstance(value, str):
        return False
    text = value.strip()
    return 3 <= len(text) <= MAX_EMAIL_LENGTH and "@" in text.strip("@")


def resolve_person(
    connection: Connection, tenant_id: uuid.UUID, schema: TenantSchema, request: SubjectRequest
) -> Person:
    """The person of ``request``: :class:`NotFound` for an unknown object or record (one in
    the recycle bin still counts: its data is still held)."""
    addresses = {request.email.lower()} if request.email else set()
    obj = None
    if request.object_name is not None and request.record_id is not None:
        obj = schema.object(request.object_name)
        data = connection.execute(
            sa.select(records.c.data).where(
                records.c.tenant_id == tenant_id,
                records.c.object_id == obj.id,
                records.c.id == request.record_id,
            )
        ).scalar()
        if data is None:
            raise NotFound(f"No {obj.api_name} record {request.record_id}.")
        addresses |= {
            value.lower()
            for field in email_fields(obj)
            if isinstance(value := data.get(field.api_name), str) and value
        }
    return Person(request.email, obj, request.record_id, frozenset(addresses))


def email_fields(obj: ObjectSchema) -> list[CompiledField]:
    """The object's fields that hold email addresses (by their type's capability)."""
    return [
        field
        for field in obj.fields.values()
        if field.type.personal_data == EMAIL and field.type.stored and field.sql_type == "text"
    ]


def personal_fields(obj: ObjectSchema) -> list[CompiledField]:
    """The fields blanked on a person's own record: their email addresses and every other
    field whose type holds personal data."""
    return [
        field
        for field in obj.fields.values()
        if field.type.personal_data in {EMAIL, PERSONAL}
        and field.type.stored
        and not field.type.computed
    ]
