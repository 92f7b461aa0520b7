"""Erasing a person: anonymise their records, or delete their own, in one transaction.

What changes, by field type (the type's ``personal_data`` capability):

* on the person's own record, every field that holds personal data (email, phone, URL,
  text, long and rich text, date) is blanked; one that may not be blank (a required
  field, the object's name field) takes its type's placeholder instead: "Anonymised"
  for text, an address at ``anonymised.invalid`` for email, ``000`` for a phone. Numbers,
  picklists, checkboxes and lookups describe the record, not who it is, and stay;
* on every other record found (by address, or by a lookup to the person's record), the
  email fields holding one of the person's addresses are blanked the same way;
* ``delete`` does all that, then moves the person's record to the recycle bin through
  the records service (each lookup's ``on_delete`` applies): a restore brings back an
  anonymised record, never the person's data;
* in both modes the person's values leave the records' history and outbox events
  (:mod:`.scrub`).

Every write goes through :class:`RecordService`, so validation rules, automations,
history and events hold; a rule that refuses the anonymised record refuses the whole
erasure. Without ``confirm`` nothing is written: the plan comes back as a preview.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Connection

from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.errors import BadRequest, Conflict
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.records.privacy.rights import require_privacy_officer
from trellis.records.privacy.scrub import Scrub, Scrubbed, scrub_copies
from trellis.records.privacy.search import Match, find_records
from trellis.records.privacy.subject import (
    Person,
    SubjectRequest,
    email_fields,
    personal_fields,
    resolve_person,
)
from trellis.records.service import RecordService
from trellis.records.values import is_blank

ANONYMISE, DELETE = "anonymise", "delete"
MODES = (ANONYMISE, DELETE)


@dataclasses.dataclass(frozen=True)
class Change:
    """What erasing does to one record: the values it writes, whether it deletes it, and
    which values leave the record's copies."""

    match: Match
    values: dict[str, Any]
    delete: bool
    scrub: Scrub

    def report(self) -> dict[str, Any]:
        return {
            "object": self.match.obj.api_name,
            "id": str(self.match.id),
            "matched_by": list(self.match.reasons),
            "changes": self.values,
            "deleted": self.delete,
        }


def erase_person(
    connection: Connection,
    actor: Actor,
    schema: TenantSchema,
    request: SubjectRequest,
    *,
    mode: Any,
    confirm: Any,
    address: str | None = None,
    user_agent: str | None = None,
    via: str | None = None,
) -> dict[str, Any]:
    """Erase the person of ``request`` and record it in the audit trail; what was done.
    Without ``confirm`` (exactly true) a :class:`BadRequest` carries the plan instead."""
    require_privacy_officer(actor)
    if mode not in MODES:
        raise BadRequest(
            "mode must be anonymise or delete.", fields={"mode": "anonymise or delete"}
        )
    if not isinstance(confirm, bool):
        raise BadRequest("confirm must be true or false.", fields={"confirm": "true or false"})
    person = resolve_person(connection, actor.tenant_id, schema, request)
    if mode == DELETE and person.record_id is None:
        raise BadRequest(
            "delete needs the person's own record: give object and record.",
            fields={"record": "The record to delete."},
        )
    matches = find_records(connection, actor.tenant_id, schema, person)
    plan = [_change(person, match, mode) for match in matches]
    if not confirm:
        counted = scrub_copies(connection, actor.tenant_id, [c.scrub for c in plan], apply=False)
        raise BadRequest(
            'Nothing was changed: send "confirm": true to erase what the preview lists.',
            code="confirmation_required",
            extra={"preview": _report(person, mode, plan, counted)},
        )
    _apply(connection, actor, schema, plan)
    scrubbed = scrub_copies(connection, actor.tenant_id, [c.scrub for c in plan], apply=True)
    report = _report(person, mode, plan, scrubbed)
    record_audit(
        connection,
        actor,
        "privacy.erased",
        target_type="record" if person.record_id else None,
        target_id=person.record_id,
        details={
            "mode": mode,
            "subject": person.audit_details(),
            "counts": report["counts"],
            **({"via": via} if via else {}),
        },
        address=address,
        user_agent=user_agent,
    )
    return report


def _change(person: Person, match: Match, mode: str) -> Change:
    obj, data = match.obj, match.data
    if match.is_subject:
        fields = personal_fields(obj)
        values = {
            field.api_name: _replacement(obj, field, match)
            for field in fields
            if not is_blank(data.get(field.api_name))
        }
        values = {name: value for name, value in values.items() if value != data.get(name)}
        # What each field holds once erased: every other value of it is the person's.
        kept = {name: values.get(name, data.get(name)) for name in (f.api_name for f in fields)}
        scrub = Scrub(match.id, frozenset(kept), kept=kept)
        return Change(match, values, mode == DELETE and match.row.deleted_at is None, scrub)
    fields = email_fields(obj)
    values = {
        field.api_name: _replacement(obj, field, match)
        for field in fields
        if isinstance(value := data.get(field.api_name), str) and value.lower() in person.addresses
    }
    scrub = Scrub(match.id, frozenset(field.api_name for field in fields), person.addresses)
    return Change(match, values, False, scrub)


def _replacement(obj: ObjectSchema, field: CompiledField, match: Match) -> Any:
    """Blank, or the type's placeholder where the field may not be blank."""
    if not field.definition.get("required") and field.api_name != obj.name_field:
        return None
    value = field.type.anonymised_value(field.definition, match.id)
    if value is None:
        raise Conflict(
            f"{obj.api_name}.{field.api_name} may not be blank and its type has no "
            "anonymised value: make the field optional to erase it.",
            code="not_erasable",
            fields={field.api_name: "Required, with no anonymised value."},
        )
    return value


def _apply(connection: Connection, actor: Actor, schema: TenantSchema, plan: list[Change]) -> None:
    """The writes, through the records service: the other records first, so that a
    cascade from deleting the person's record finds them already anonymised."""
    for change in sorted(plan, key=lambda item: item.match.is_subject):
        service = RecordService(connection, actor, schema, change.match.obj)
        if change.values:
            service.update(change.match.id, change.values, erasure=True)
        if change.delete:
            service.delete(change.match.id)


def _report(person: Person, mode: str, plan: list[Change], scrubbed: Scrubbed) -> dict[str, Any]:
    return {
        "mode": mode,
        "subject": person.describe(),
        "records": [change.report() for change in plan],
        "counts": {
            "records": len(plan),
            "updated": sum(1 for change in plan if change.values),
            "deleted": sum(1 for change in plan if change.delete),
            "history_rows": scrubbed.history_rows,
            "events": scrubbed.events,
        },
    }
