"""The checks of new records that read the database, run once for a whole batch: their
lookups' targets (one query per lookup field), their unique values (one locking statement
and one query per unique field) and then, for the records that passed, their
auto-numbers (one counter update per field). A batch of a thousand records costs the
round trips of one.

Each check refuses records on their own, with the error a single create would give, and
in the order a single create runs them: a record refused for a lookup is not checked for
uniqueness, and only the records that pass every check take a number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.errors import TrellisError
from trellis.metadata.compiled import ObjectSchema
from trellis.records.auto_numbers import next_auto_numbers
from trellis.records.references import reference_error, reference_errors
from trellis.records.uniqueness import duplicate_error, unique_errors

#: A new record ready to write (``id``, ``data``, ``owner_id``), or why it was refused.
Prepared = dict[str, Any] | TrellisError
FieldErrors = dict[str, list[str]]


def check_new_records(
    connection: Connection, access: Access, obj: ObjectSchema, prepared: list[Prepared]
) -> None:
    """Replace the records of ``prepared`` that fail a check by their error, in place;
    number the others."""
    tenant_id = access.actor.tenant_id
    _refuse(
        prepared,
        lambda rows: reference_errors(connection, access, obj, [row["data"] for row in rows]),
        reference_error,
    )
    _refuse(
        prepared,
        lambda rows: unique_errors(
            connection, tenant_id, obj, [(row["id"], row["data"]) for row in rows]
        ),
        duplicate_error,
    )
    passed = [row for row in prepared if not isinstance(row, TrellisError)]
    for row, numbers in zip(
        passed, next_auto_numbers(connection, tenant_id, obj, len(passed)), strict=True
    ):
        row["data"].update(numbers)


def _refuse(
    prepared: list[Prepared],
    check: Callable[[list[dict[str, Any]]], list[FieldErrors]],
    error: Callable[[FieldErrors], TrellisError],
) -> None:
    """Run ``check`` over the records not refused yet; refuse those it finds fault with."""
    pending = [(at, row) for at, row in enumerate(prepared) if not isinstance(row, TrellisError)]
    if not pending:
        return
    found = check([row for _, row in pending])
    for (at, _), errors in zip(pending, found, strict=True):
        if errors:
            prepared[at] = error(errors)
