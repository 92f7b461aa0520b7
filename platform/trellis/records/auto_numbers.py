"""Auto-numbers: each new record takes the next value of its object's per-field counter,
without gaps, since a rolled-back create gives its number back."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from trellis.metadata.compiled import ObjectSchema
from trellis.records.tables import auto_number_counters


def next_auto_numbers(
    connection: Connection, tenant_id: uuid.UUID, obj: ObjectSchema, count: int = 1
) -> list[dict[str, str]]:
    """The formatted next numbers of ``obj``'s auto-number fields for ``count`` new
    records, in order: one counter update per field, however many records."""
    numbers: list[dict[str, str]] = [{} for _ in range(count)]
    if not count:
        return numbers
    for field in obj.writes.auto_numbers:
        name = field.api_name
        start = field.type.sequence_start(field.definition)
        # The counter row stays locked until commit, so concurrent creators queue
        # here and a rolled-back create gives its numbers back: no gaps.
        statement = pg_insert(auto_number_counters).values(
            tenant_id=tenant_id, object_id=obj.id, field=name, last_value=start + count - 1
        )
        last = connection.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "object_id", "field"],
                set_={"last_value": auto_number_counters.c.last_value + count},
            ).returning(auto_number_counters.c.last_value)
        ).scalar_one()
        for offset, each in enumerate(numbers):
            each[name] = field.type.format_sequence(field.definition, last - count + 1 + offset)
    return numbers
