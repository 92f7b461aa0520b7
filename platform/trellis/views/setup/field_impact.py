"""What a field's stored values say about a change before it is made: how many records
hold a value, and which values a new definition would not keep.

The check is the metadata service's own (trellis.metadata.safety): the new type's
``sql_accepts`` predicate over the stored text, for the object's live records. Here it
only counts and samples, for the confirmation the screens show; the service refuses or
forces the change itself.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.metadata.field_types import FieldTypeRegistry

# Names are validated api names before they reach SQL text; this guards the interpolation.
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
SAMPLES = 5


@dataclasses.dataclass(frozen=True)
class Impact:
    """Records holding a value of the field, and those whose value would be removed."""

    holding: int
    misfits: int
    samples: list[str]


def _scope(name: str) -> str:
    if not _API_NAME.fullmatch(name):
        raise ValueError(f"not an api name: {name!r}")
    return (
        "tenant_id = :tenant AND object_id = :object AND deleted_at IS NULL "
        f"AND data ? '{name}' AND data->'{name}' <> 'null'"
    )


def records_by_object(connection: Connection, tenant_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Live records per object, in one grouped query."""
    rows = connection.execute(
        sa.text(
            "SELECT object_id, count(*) AS n FROM records "
            "WHERE tenant_id = :tenant AND deleted_at IS NULL GROUP BY object_id"
        ),
        {"tenant": tenant_id},
    )
    return {row.object_id: row.n for row in rows}


def holding(connection: Connection, tenant_id: uuid.UUID, object_id: uuid.UUID, name: str) -> int:
    """How many live records hold a value of field ``name``."""
    return int(
        connection.execute(
            sa.text(f"SELECT count(*) FROM records WHERE {_scope(name)}"),
            {"tenant": tenant_id, "object": object_id},
        ).scalar_one()
    )


def change_impact(
    connection: Connection,
    tenant_id: uuid.UUID,
    object_id: uuid.UUID,
    field: dict[str, Any],
    registry: FieldTypeRegistry,
) -> Impact:
    """What saving ``field`` (its new definition) would do to the stored values."""
    name = field["api_name"]
    params = {"tenant": tenant_id, "object": object_id}
    held = holding(connection, tenant_id, object_id, name)
    accepts = registry.get(field["type"]).sql_accepts(f"(data->>'{name}')", field)
    if not held or not accepts:
        return Impact(held, 0, [])
    misfit = f"{_scope(name)} AND NOT ({accepts})"
    count = connection.execute(
        sa.text(f"SELECT count(*) FROM records WHERE {misfit}"), params
    ).scalar_one()
    samples = connection.execute(
        sa.text(
            f"SELECT DISTINCT data->>'{name}' AS value FROM records WHERE {misfit} "
            f"ORDER BY 1 LIMIT {SAMPLES}"
        ),
        params,
    ).scalars()
    return Impact(held, int(count), [str(value) for value in samples])
