"""Sharing rules as precomputed share rows.

An owner-based rule shares the records owned by members of a group or role; a
criteria-based rule shares the records for which its formula is true. Each rule's rows
are ``record_shares`` rows with cause ``rule:<name>``, written by one INSERT … SELECT
per rule: for the records of one write, in that write's transaction
(:func:`sync_rule_shares`), or for a whole object in batches by a recompute job when the
rules, the role tree or group memberships change (:mod:`trellis.access.recompute`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Connection

from trellis.access.principals import principal_of
from trellis.access.tables import record_shares
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.statements import Statement, StatementKey

RULE_CAUSE = "rule:"
ACCESS_LEVELS = {"read": 1, "read_write": 2}


def sharing_rules(obj: ObjectSchema) -> list[dict[str, Any]]:
    return list(obj.definition.get("sharing_rules", []))


def fingerprint(obj: ObjectSchema) -> str:
    """What an object's rule shares are computed from: equal fingerprints, equal shares
    (for the same records, owners and memberships)."""
    settings = {"rules": sharing_rules(obj)}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:32]


def rule_insert(
    schema: TenantSchema, obj: ObjectSchema, tenant_id: uuid.UUID, rule: dict[str, Any]
) -> sa.Insert:
    """INSERT … SELECT of one rule's shares for the live records whose ids are the
    ``ids`` parameter; built once per revision."""

    def build() -> sa.Insert:
        conditions: list[Any] = [
            sa.text(
                f"r.tenant_id = '{tenant_id}' AND r.object_id = '{obj.id}' "
                "AND r.deleted_at IS NULL AND r.id = ANY(:ids)"
            ).bindparams(sa.bindparam("ids", None, type_=ARRAY(UUID(as_uuid=True))))
        ]
        if "owned_by" in rule:
            conditions.append(
                sa.text(
                    "r.owner_id IN (SELECT c.user_id FROM access_closure c "
                    f"WHERE c.tenant_id = '{tenant_id}' "
                    "AND c.memberships @> ARRAY[CAST(:owned_by AS text)])"
                ).bindparams(owned_by=principal_of(rule["owned_by"]))
            )
        else:
            formula = schema.formulas.compile(
                obj, rule["criteria"], expected_type="checkbox", allow_prior=False
            )
            conditions.append(formula.to_sql_condition(schema.formulas.sql(obj, tenant_id, "r")))
        rows: Any = (
            sa.select(
                sa.literal_column("r.tenant_id"),
                sa.literal_column("r.id"),
                sa.literal(principal_of(rule["share_with"])),
                sa.literal(f"{RULE_CAUSE}{rule['name']}"),
                sa.literal_column("r.object_id"),
                sa.literal(ACCESS_LEVELS[rule["access"]]),
            )
            .select_from(sa.text("records AS r"))
            .where(*conditions)
        )
        columns = ["tenant_id", "record_id", "principal", "cause", "object_id", "access"]
        # SQLAlchemy keeps an INSERT's row count only when asked; jobs report it.
        return (
            record_shares.insert()
            .from_select(columns, rows)
            .execution_options(preserve_rowcount=True)
        )

    return schema.statements.get(
        StatementKey(Statement.SHARE_RULE, obj.id, (tenant_id, rule["name"])), build
    )


def sync_rule_shares(
    connection: Connection,
    tenant_id: uuid.UUID,
    schema: TenantSchema,
    obj: ObjectSchema,
    record_ids: Sequence[uuid.UUID],
    *,
    recomputing: bool = False,
) -> int:
    """Replace the rule shares of ``record_ids`` with what the rules give them now. A
    write to an object without rules costs nothing; a recomputation also clears the
    shares of rules since removed, and returns how many shares the records now have."""
    rules = sharing_rules(obj)
    if not record_ids or not (rules or recomputing):
        return 0
    ids = list(record_ids)
    clear_rule_shares(connection, tenant_id, obj.id, ids)
    for rule in rules:
        connection.execute(rule_insert(schema, obj, tenant_id, rule), {"ids": ids})
    if not recomputing:
        return 0
    return int(
        connection.execute(
            sa.select(sa.func.count()).where(
                record_shares.c.tenant_id == tenant_id,
                record_shares.c.record_id == sa.any_(sa.literal(ids, ARRAY(UUID(as_uuid=True)))),
                record_shares.c.cause.startswith(RULE_CAUSE),
            )
        ).scalar_one()
    )


def clear_rule_shares(
    connection: Connection, tenant_id: uuid.UUID, object_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> None:
    """Remove the rule shares (not manual ones) of the records ``ids``."""
    connection.execute(
        record_shares.delete().where(
            record_shares.c.tenant_id == tenant_id,
            record_shares.c.object_id == object_id,
            record_shares.c.record_id == sa.any_(sa.literal(list(ids), ARRAY(UUID(as_uuid=True)))),
            record_shares.c.cause.startswith(RULE_CAUSE),
        )
    )
