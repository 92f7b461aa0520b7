"""The User object in formulas: which object it is, the ``Owner`` path from any record
to its owner's User record, and which User fields a formula reads through either.

``Owner`` is to the ``owner_id`` system field what a lookup's name is to its value, as
in Salesforce (``Owner.Region``, ``Account.Owner.Email``): every object has it once the
workspace has its User object, unless a field of its own is called Owner.
"""

from __future__ import annotations

from trellis.metadata.compiled import ObjectSchema, TenantSchema

MANAGED_BY = "users"  # the User object's ``managed_by`` (trellis.records.users keeps it)
OWNER_PATH = "Owner"
OWNER_COLUMN = "owner_id"


def user_object(schema: TenantSchema) -> ObjectSchema | None:
    """The platform's User object, if the workspace has it (an object of its own that
    happens to be called User is not it)."""
    found = schema.objects.get("user")
    return found if found is not None and found.definition.get("managed_by") == MANAGED_BY else None


def owner_target(schema: TenantSchema, obj: ObjectSchema) -> ObjectSchema | None:
    """The User object when ``obj``'s formulas have an ``Owner`` path; None when the
    workspace has no User object, ``obj`` has a field called Owner, or ``obj`` is the
    User object (whose records have no owner)."""
    user = user_object(schema)
    if user is None or user is obj or obj.find(OWNER_PATH) is not None:
        return None
    return user


def is_owner_path(schema: TenantSchema, obj: ObjectSchema, name: str) -> bool:
    return name.lower() == OWNER_PATH.lower() and owner_target(schema, obj) is not None


def user_fields_read(schema: TenantSchema, obj: ObjectSchema, source: str) -> set[str]:
    """The fields of User records that a checkbox formula on ``obj`` (a criteria sharing
    rule) reads, through ``Owner`` paths and lookups, formula fields and roll-ups
    followed: when one of them changes on a User record, the formula's result may
    change on records that are not themselves written."""
    formula = schema.formulas.compile(obj, source, expected_type="checkbox", allow_prior=False)
    found: set[str] = set()
    for path in formula.references:
        _walk(schema, obj, path.split("."), found, frozenset())
    return found


def _walk(
    schema: TenantSchema,
    current: ObjectSchema,
    names: list[str],
    found: set[str],
    seen: frozenset[str],
) -> None:
    """Follow one path from ``current``, noting the User fields read on the way
    (``seen``: the computed fields being followed, against circles)."""
    user = user_object(schema)
    head, rest = names[0], names[1:]
    if rest and user is not None and is_owner_path(schema, current, head):
        _walk(schema, user, rest, found, seen)
        return
    field = current.find(head)
    if field is None:  # a system field
        return
    if current is user:
        found.add(field.api_name)
    key = f"{current.api_name}.{field.api_name}"
    if key in seen:
        return
    if field.type.aggregates:
        child = schema.objects.get(str(field.definition["summarized_object"]).lower())
        if child is None:
            return
        paths = [field.definition.get("summarized_field") or "id"]
        if field.definition.get("filter"):
            paths += schema.formulas.compile(
                child, field.definition["filter"], expected_type="checkbox", allow_prior=False
            ).references
        for path in paths:
            _walk(schema, child, path.split("."), found, seen | {key})
    elif not field.type.stored:
        for path in schema.formulas.field_formula(current, field).references:
            _walk(schema, current, path.split("."), found, seen | {key})
    elif rest and field.type.references_records:
        target = schema.objects.get(str(field.definition["target"]).lower())
        if target is not None:
            _walk(schema, target, rest, found, seen)
