"""Refuse metadata changes that would lose data, unless the admin forces them.

Changing a field's type or tightening it (shorter ``max_length``, fewer picklist
values, a smaller scale) is checked against the stored values in SQL, using the
new type's own acceptance predicate; turning ``unique`` on is checked for existing
duplicates. A forced change removes the values that no longer fit (they remain in
the record history) and converts the rest to the new type's stored form.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.errors import ValidationError
from trellis.metadata.compiled import SQL_EXPRESSIONS, ObjectSchema
from trellis.metadata.field_types import FieldTypeRegistry

# Properties whose change never affects stored values.
COSMETIC = frozenset(
    {
        "label",
        "help_text",
        "description",
        "required",
        "indexed",
        "read_only",
        "default",
        "on_delete",
        "relationship_name",
        "unique",
        "external_id",
    }
)
# How stored JSON is rewritten into a new type's form, by its SQL type.
CONVERSIONS = {
    "numeric": "to_jsonb((data->>'{name}')::numeric)",
    "boolean": "to_jsonb((data->>'{name}')::boolean)",
    "text": "to_jsonb(data->>'{name}')",
    "jsonb": "CASE WHEN jsonb_typeof(data->'{name}') = 'array' THEN data->'{name}' "
    "ELSE jsonb_build_array(data->>'{name}') END",
}


def check_data_loss(
    connection: Connection,
    tenant_id: uuid.UUID,
    current: ObjectSchema,
    new_definition: dict[str, Any],
    registry: FieldTypeRegistry,
    *,
    force: bool,
    actor_id: uuid.UUID | None,
) -> None:
    """Refuse replacing ``current`` with ``new_definition`` where stored values would not
    fit; with ``force``, remove those values and convert the rest instead."""
    old_fields = {f["api_name"]: f for f in current.definition["fields"]}
    scope = "tenant_id = :tenant AND object_id = :object AND deleted_at IS NULL"
    params = {"tenant": tenant_id, "object": current.id, "actor": actor_id}
    errors: dict[str, list[str]] = {}
    rewrites: list[tuple[str, str, str]] = []
    for field in new_definition["fields"]:
        old = old_fields.get(field["api_name"])
        if old is None or field.get("deleted"):
            continue
        name, new_type = field["api_name"], registry.get(field["type"])
        stored = f"(data->>'{name}')"
        changed = {key for key in set(old) | set(field) if old.get(key) != field.get(key)}
        if changed - COSMETIC or old.get("deleted"):
            accepts = new_type.sql_accepts(stored, field)
            if accepts:
                misfit = (
                    f"{scope} AND data ? '{name}' AND data->'{name}' <> 'null' AND NOT ({accepts})"
                )
                sample = _first_match(connection, misfit, stored, params)
                if sample and not force:
                    errors[f"fields.{name}"] = [
                        f"{sample[0]} record(s) hold values this change cannot keep, "
                        f"e.g. {sample[1]!r}. Fix them first or force the change "
                        "(those values are then removed)."
                    ]
                elif sample:
                    rewrites.append((name, misfit, "remove"))
            if old["type"] != field["type"] and new_type.sql_type in CONVERSIONS:
                rewrites.append((name, f"{scope} AND data ? '{name}'", "convert"))
        if field.get("unique") and not old.get("unique") and new_type.sql_type:
            duplicate = _first_duplicate(connection, scope, name, new_type.sql_type, params)
            if duplicate:
                errors[f"fields.{name}.unique"] = [
                    f"Several records share the value {duplicate[0]!r}; make them unique first."
                ]
    if errors:
        raise ValidationError(
            "This change would lose or break data.", fields=errors, code="data_loss"
        )
    for name, where, action in rewrites:
        if action == "remove":
            _remove_values(connection, name, where, params)
        else:
            sql_type = registry.get(
                next(f["type"] for f in new_definition["fields"] if f["api_name"] == name)
            ).sql_type
            assert sql_type is not None  # queued only when CONVERSIONS has the new SQL type
            _convert_values(connection, name, where, sql_type, params)


def _first_match(
    connection: Connection, where: str, stored: str, params: dict[str, Any]
) -> sa.Row[Any, Any] | None:
    """How many records match ``where``, with the ``stored`` value of one of them."""
    return connection.execute(
        sa.text(f"SELECT count(*) OVER (), {stored} FROM records WHERE {where} LIMIT 1"),
        params,
    ).first()


def _first_duplicate(
    connection: Connection, scope: str, name: str, sql_type: str, params: dict[str, Any]
) -> sa.Row[Any] | None:
    """A value of field ``name`` that several records in ``scope`` share, if any."""
    stored = f"(data->>'{name}')"
    expression = SQL_EXPRESSIONS[sql_type].format(name=name)
    return connection.execute(
        sa.text(
            f"SELECT {stored} FROM records WHERE {scope} AND {expression} IS NOT NULL "
            f"GROUP BY {expression}, {stored} HAVING count(*) > 1 LIMIT 1"
        ),
        params,
    ).first()


def _remove_values(connection: Connection, name: str, where: str, params: dict[str, Any]) -> None:
    """Remove field ``name`` from the records matching ``where``, recording each removal
    in the record history."""
    connection.execute(
        sa.text(
            "INSERT INTO record_history (tenant_id, record_id, object_id, action, changes, "
            f"actor_id) SELECT tenant_id, id, object_id, 'update', jsonb_build_object("
            f"'{name}', jsonb_build_array(data->'{name}', NULL)), :actor "
            f"FROM records WHERE {where}"
        ),
        params,
    )
    connection.execute(
        sa.text(
            f"UPDATE records SET data = data - '{name}', version = version + 1, "
            f"updated_at = now() WHERE {where}"
        ),
        params,
    )


def _convert_values(
    connection: Connection, name: str, where: str, sql_type: str, params: dict[str, Any]
) -> None:
    """Rewrite field ``name`` of the records matching ``where`` into ``sql_type``'s form."""
    conversion = CONVERSIONS[sql_type].format(name=name)
    connection.execute(
        sa.text(
            f"UPDATE records SET data = jsonb_set(data, '{{{name}}}', {conversion}) "
            f"WHERE {where} AND data->'{name}' <> 'null'"
        ),
        params,
    )
