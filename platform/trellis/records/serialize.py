"""Records as JSON, built by PostgreSQL.

A record is a flat object: the system fields plus every active custom field (blank
ones as ``null``). Building it in SQL lets list pages stream rows straight into the
response body with no decode/encode round trip in Python, and gives reads, lists,
creates and updates (through ``RETURNING``) one identical serialisation.
"""
from __future__ import annotations

import json
from typing import Iterable

from trellis.metadata.compiled import ObjectSchema

SYSTEM_JSON = ("'id', id, 'version', version, 'created_at', created_at, "
               "'updated_at', updated_at, 'created_by', created_by, "
               "'updated_by', updated_by, 'owner_id', owner_id")


def record_json_sql(obj: ObjectSchema, fields: Iterable[str] | None = None) -> str:
    """SQL text of a ``jsonb`` expression for one ``records`` row of ``obj``."""
    if fields is not None:
        pairs = ", ".join(f"'{name}', data->'{name}'" for name in fields)
        return f"jsonb_build_object('id', id{', ' + pairs if pairs else ''})"
    blanks = ", ".join(f"'{name}', NULL" for name in obj.fields)
    template = f"jsonb_build_object({blanks})" if blanks else "'{}'::jsonb"
    hidden = ", ".join(f"'{name}'" for name in sorted(obj.hidden_fields))
    data = f"(data - ARRAY[{hidden}]::text[])" if hidden else "data"
    return f"({template} || {data} || jsonb_build_object({SYSTEM_JSON}))"


def page_body(rows: Iterable[str], next_cursor: str | None, total: int | None) -> str:
    """The list response, assembled from rows PostgreSQL already rendered as JSON."""
    tail = f',"next_cursor":{json.dumps(next_cursor)}'
    if total is not None:
        tail += f',"total":{total}'
    return '{"data":[' + ",".join(rows) + "]" + tail + "}"
