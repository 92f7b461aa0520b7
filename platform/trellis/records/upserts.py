"""Upserts by external id: create the record whose external id field holds a value, or
update it when one already does (``PUT /api/v1/objects/<Object>/records/by/<Field>/<value>``
and the bulk endpoint's ``upsert`` items).

Writers of one value are serialised by the advisory lock the unique check takes
(trellis.records.uniqueness), taken here before the record is looked for: of two
concurrent upserts of a new value, the second waits, then finds and updates the
record the first created. The field's unique index backs this up.

A record holding the value that the actor may not read is not revealed: the upsert
is refused with a 409 ``external_id_taken`` that names neither the record nor its id,
as a create would be refused by the unique index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from trellis.errors import Conflict, NotFound, PreconditionFailed, ValidationError
from trellis.metadata.compiled import CompiledField, ObjectSchema
from trellis.metadata.field_types import FieldValueError
from trellis.records.serialize import SavedRecord
from trellis.records.service import RecordService
from trellis.records.tables import records
from trellis.records.uniqueness import lock_value, stored_text


@dataclasses.dataclass(frozen=True)
class Upserted:
    record: SavedRecord
    #: True when the upsert created the record, False when it updated one.
    created: bool


def external_id_field(obj: ObjectSchema, name: str) -> CompiledField:
    """The field ``name`` of ``obj`` when it is an external id; else a clear 422."""
    field = obj.find(name)
    if field is None or not field.definition.get("external_id"):
        external = [f.api_name for f in obj.fields.values() if f.definition.get("external_id")]
        hint = f"; its external ids: {', '.join(external)}" if external else "; it has none"
        raise ValidationError(
            f"{name!r} is not an external id field of {obj.api_name}{hint}.",
            code="not_an_external_id",
            fields={name: "Not an external id field."},
        )
    return field


def parse_external_value(field: CompiledField, raw: Any) -> Any:
    """An external id's value, as a URL path (text) or a bulk item gives it, read by the
    field's type; a blank one is refused."""
    try:
        value = field.normalize(raw)
    except FieldValueError as error:
        raise ValidationError(
            f"{raw!r} is not a value of {field.api_name}: {error}",
            fields={field.api_name: str(error)},
        ) from None
    if value is None or value == "":
        raise ValidationError(
            f"An upsert needs a value of {field.api_name}.",
            fields={field.api_name: "Required."},
        )
    return value


def upsert(
    service: RecordService,
    field: CompiledField,
    value: Any,
    values: Any,
    *,
    expected_version: int | None = None,
) -> Upserted:
    """Create or update the record whose ``field`` holds ``value`` (already normalised)
    with ``values``, which may leave the field out or must agree with ``value``."""
    if not isinstance(values, Mapping):
        raise ValidationError("A record is a JSON object of field values.")
    values = dict(values)
    _check_agrees(service.obj, field, value, values)
    lock_value(service.connection, service.obj, field.api_name, value)
    existing = _holder(service, field, value)
    if existing is None:
        if expected_version is not None:
            raise PreconditionFailed(
                f"No {service.obj.api_name} has {field.api_name} {value!r}; If-Match names "
                "a version of a record that does not exist.",
                code="stale_version",
            )
        return Upserted(service.create({**values, field.api_name: value}), created=True)
    try:
        service.locate(existing)
    except NotFound:
        raise Conflict(
            f"A {service.obj.api_name} you cannot see already has this {field.api_name}.",
            code="external_id_taken",
            fields={field.api_name: "Another record has this value."},
        ) from None
    record = service.update(existing, values, expected_version=expected_version)
    return Upserted(record, created=False)


def upsert_item(service: RecordService, field: CompiledField, item: Any) -> Upserted:
    """A bulk upsert's item: field values holding the external id's own (and, for an
    update, optionally the ``version`` it was read at)."""
    if not isinstance(item, Mapping):
        raise ValidationError("A record is a JSON object of field values.")
    raw = next((each for key, each in item.items() if service.obj.find(key) is field), None)
    value = parse_external_value(field, raw)
    version = item.get("version")
    values = {key: each for key, each in item.items() if key != "version"}
    return upsert(
        service,
        field,
        value,
        values,
        expected_version=version if isinstance(version, int) else None,
    )


def _check_agrees(
    obj: ObjectSchema, field: CompiledField, value: Any, values: dict[str, Any]
) -> None:
    """Drop the external id from ``values`` if it names the same value; else a 422."""
    for key in [key for key in values if isinstance(key, str) and obj.find(key) is field]:
        try:
            sent = field.normalize(values.pop(key))
        except FieldValueError as error:
            raise ValidationError(
                "Some values are invalid.", fields={field.api_name: str(error)}
            ) from None
        if sent is not None and stored_text(sent) != stored_text(value):
            raise ValidationError(
                f"The body's {field.api_name} ({sent!r}) differs from the one upserted by "
                f"({value!r}); leave it out or send the same value.",
                code="external_id_mismatch",
                fields={field.api_name: "Differs from the value in the path."},
            )


def _holder(service: RecordService, field: CompiledField, value: Any) -> Any:
    """The id of the live record holding ``value``, whoever may read it (None if none)."""
    stored = sa.literal_column(field.stored_text_expression, sa.Text)
    return service.connection.execute(
        sa.select(records.c.id)
        .where(
            records.c.tenant_id == service.actor.tenant_id,
            records.c.object_id == service.obj.id,
            records.c.deleted_at.is_(None),
            stored == stored_text(value),
        )
        .limit(1)
    ).scalar()
