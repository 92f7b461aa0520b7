"""The formula type system: Trellis field types mapped onto formula kinds.

A *kind* is what the checker reasons about. Many field types share a kind
(email, phone, url and lookup ids all behave as text); the number kinds stay
distinct (number, currency, percent) because the result type of a formula is
shown to admins, but they are compatible with each other everywhere.
"""

from __future__ import annotations

TEXT = "text"
NUMBER = "number"
CURRENCY = "currency"
PERCENT = "percent"
CHECKBOX = "checkbox"
DATE = "date"
DATETIME = "datetime"
TIME = "time"
PICKLIST = "picklist"
MULTI_PICKLIST = "multi_picklist"
NULL = "null"

NUMBER_KINDS = frozenset({NUMBER, CURRENCY, PERCENT})
TEXT_KINDS = frozenset({TEXT})
ALL_KINDS = frozenset(
    {
        TEXT,
        NUMBER,
        CURRENCY,
        PERCENT,
        CHECKBOX,
        DATE,
        DATETIME,
        TIME,
        PICKLIST,
        MULTI_PICKLIST,
        NULL,
    }
)

FIELD_TYPE_KINDS: dict[str, str] = {
    "text": TEXT,
    "long_text": TEXT,
    "rich_text": TEXT,
    "email": TEXT,
    "phone": TEXT,
    "url": TEXT,
    "auto_number": TEXT,
    "lookup": TEXT,
    "id": TEXT,
    "uuid": TEXT,
    "number": NUMBER,
    "integer": NUMBER,
    "currency": CURRENCY,
    "percent": PERCENT,
    "checkbox": CHECKBOX,
    "boolean": CHECKBOX,
    "date": DATE,
    "datetime": DATETIME,
    "time": TIME,
    "picklist": PICKLIST,
    "multi_picklist": MULTI_PICKLIST,
}

SYSTEM_FIELDS: dict[str, str] = {
    "id": "lookup",
    "version": "number",
    "created_at": "datetime",
    "updated_at": "datetime",
    "created_by": "lookup",
    "updated_by": "lookup",
    "owner_id": "lookup",
}
"""Fields every record has, by Trellis name, with their field type."""

SYSTEM_FIELD_ALIASES: dict[str, str] = {
    "id": "id",
    "createddate": "created_at",
    "lastmodifieddate": "updated_at",
    "ownerid": "owner_id",
    "createdbyid": "created_by",
    "lastmodifiedbyid": "updated_by",
}
"""Salesforce names (lower-cased) for the system fields."""

DEFAULT_GLOBAL_TYPES: dict[str, str] = {
    "$User.Id": "lookup",
    "$User.Email": "email",
    "$User.FirstName": "text",
    "$User.LastName": "text",
    "$User.Username": "text",
    "$Profile.Name": "text",
    "$Organization.Id": "lookup",
    "$Organization.Name": "text",
}

KIND_LABELS = {
    TEXT: "Text",
    NUMBER: "Number",
    CURRENCY: "Currency",
    PERCENT: "Percent",
    CHECKBOX: "Checkbox",
    DATE: "Date",
    DATETIME: "Date/Time",
    TIME: "Time",
    PICKLIST: "Picklist",
    MULTI_PICKLIST: "Multi-Select Picklist",
    NULL: "Null",
}


def kind_of_field_type(field_type: str) -> str | None:
    """Formula kind for a Trellis field type name, or None when unknown."""
    if not isinstance(field_type, str):
        return None
    return FIELD_TYPE_KINDS.get(field_type.lower())


def label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def is_number(kind: str) -> bool:
    return kind in NUMBER_KINDS


def unify(first: str, second: str) -> str | None:
    """Common kind of two branches (IF, CASE, BLANKVALUE), or None if incompatible."""
    if first == NULL:
        return second
    if second == NULL or first == second:
        return first
    if first in NUMBER_KINDS and second in NUMBER_KINDS:
        return NUMBER
    return None


def compatible(first: str, second: str) -> bool:
    """Whether two kinds can be compared with = or <>."""
    return unify(first, second) is not None
