"""A record's name as the reader may see it: the object's name field, in SQL.

Screens show records by name (search results, recent records, lookups later), and only
where field-level security lets the reader read that field: a hidden name is neither
shown nor searched, so it cannot be found out one guess at a time.
"""

from __future__ import annotations

from trellis.access.gate import Access
from trellis.metadata.compiled import ObjectSchema


def readable_name_field(obj: ObjectSchema, access: Access) -> str | None:
    """The API name of ``obj``'s name field when it is stored and the reader may read it."""
    name = obj.name_field
    field = obj.find(name) if name else None
    if field is None or not field.type.stored:
        return None
    if field.api_name in access.unreadable_fields(obj):
        return None
    return field.api_name


def name_sql(obj: ObjectSchema, access: Access, alias: str = "records") -> str | None:
    """The name of a row of ``obj`` under ``alias`` as SQL text, or None when the reader
    may not see it (no name field, or one field-level security hides). Field names are
    validated identifiers, so the expression can be written into the statement."""
    field = readable_name_field(obj, access)
    return None if field is None else f"({alias}.data->>'{field}')"
