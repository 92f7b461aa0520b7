"""The User object: every user of a workspace as a record that administrators extend.

The platform creates the object (``managed_by: users``) the first time a user is made
or changed through the API or the command line, and keeps one record per user, whose
id is the user's id, in step with the account: ``Name``, ``Email``, ``Manager`` (a
lookup to User, from the user's manager) and ``Active``. Those fields are the
platform's; fields an administrator adds (department, region, quota…) are theirs, and
every formula reads them as ``$User.<Field>`` of the acting user, as ``Owner.<Field>`` of
a record's owner, or through any lookup to User. User records are created and removed
only with their users, and have no owner, so only administrators (and modify all)
change the added fields. A change to a User record that criteria sharing rules read
queues their recomputation in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.access.recompute import queue_user_changes
from trellis.actor import system_actor
from trellis.errors import Forbidden
from trellis.metadata.compiled import MetadataCache, ObjectSchema, TenantSchema
from trellis.metadata.service import MetadataService
from trellis.metadata.user_paths import MANAGED_BY, user_object
from trellis.records.search_terms import rebuild_terms, searchable_fields

MANAGED_FIELDS = ("Name", "Email", "Manager", "Active")
USER_OBJECT: dict[str, Any] = {
    "api_name": "User",
    "label": "User",
    "plural_label": "Users",
    "description": "The workspace's users, kept in step with their accounts.",
    "name_field": "Name",
    "managed_by": MANAGED_BY,
    "sharing_model": "read",
    "fields": [
        {"api_name": "Name", "type": "text"},
        {"api_name": "Email", "type": "email"},
        {"api_name": "Manager", "type": "lookup", "target": "User", "on_delete": "set_null"},
        {"api_name": "Active", "type": "checkbox"},
    ],
}


def refuse_managed(obj: ObjectSchema) -> None:
    """User records are created and deleted with their users, never by hand."""
    if obj.definition.get("managed_by"):
        raise Forbidden(
            f"{obj.api_name} records come and go with their users: use /api/v1/users.",
            code="managed_records",
        )


def check_managed_edits(obj: ObjectSchema, edited: Iterable[str]) -> None:
    """The platform's fields of a User record follow the account: refuse changing them."""
    if not obj.definition.get("managed_by"):
        return
    refused = {name: "Change it on the user." for name in edited if name in MANAGED_FIELDS}
    if refused:
        raise Forbidden(
            "The platform keeps these fields in step with the account.",
            code="field_not_editable",
            fields=refused,
        )


def user_record_changed(
    connection: Connection,
    tenant_id: uuid.UUID,
    schema: TenantSchema,
    obj: ObjectSchema,
    changed: Iterable[str],
) -> None:
    """After a write to a record of ``obj``: when it is a User record, recompute the
    shares of criteria rules that read the changed fields of their records' owners."""
    if obj.definition.get("managed_by") == MANAGED_BY:
        queue_user_changes(connection, tenant_id, schema, changed)


def sync_users(
    connection: Connection, cache: MetadataCache, tenant_id: uuid.UUID, tenant_slug: str
) -> ObjectSchema | None:
    """Create the User object if needed and bring every user's record in step; None
    when the workspace has an object of its own called User."""
    schema = cache.get(connection, tenant_id)
    obj = user_object(schema)
    if obj is None:
        if "user" in schema.objects:
            return None
        service = MetadataService(connection, system_actor(tenant_id, tenant_slug), cache)
        obj = service.create_object(dict(USER_OBJECT), message="The User object")
    managed = ", ".join(f"'{name}'" for name in MANAGED_FIELDS)
    # One statement each: the accounts' values over the records' own fields.
    written = connection.execute(
        sa.text(
            "INSERT INTO records (tenant_id, id, object_id, data, owner_id) "
            "SELECT u.tenant_id, u.id, :object, jsonb_strip_nulls(jsonb_build_object("
            "'Name', u.display_name, 'Email', u.email, 'Manager', u.manager_id::text, "
            "'Active', u.active)), NULL FROM users u WHERE u.tenant_id = :tenant "
            "ON CONFLICT (tenant_id, id) DO UPDATE SET "
            f"data = (records.data - ARRAY[{managed}]) || EXCLUDED.data, "
            "version = records.version + 1, updated_at = now() "
            f"WHERE records.data - ARRAY[{managed}] || EXCLUDED.data IS DISTINCT FROM records.data "
            # xmax is 0 on a row just inserted, and set on one this statement updated.
            "RETURNING records.xmax <> 0 AS changed"
        ),
        {"object": obj.id, "tenant": tenant_id},
    ).scalars()
    if any(written):
        # A user's account changed: criteria sharing rules reading it see it now.
        queue_user_changes(connection, tenant_id, schema, MANAGED_FIELDS)
        # And global search finds people by their name and address as they are now.
        managed_fields = [f for f in searchable_fields(obj) if f.api_name in MANAGED_FIELDS]
        rebuild_terms(connection, tenant_id, obj, managed_fields)
    connection.execute(
        sa.text(
            "DELETE FROM record_refs WHERE tenant_id = :tenant AND source_object_id = :object "
            "AND field = 'Manager'"
        ),
        {"object": obj.id, "tenant": tenant_id},
    )
    connection.execute(
        sa.text(
            "INSERT INTO record_refs (tenant_id, source_id, field, target_id, source_object_id) "
            "SELECT tenant_id, id, 'Manager', manager_id, :object FROM users "
            "WHERE tenant_id = :tenant AND manager_id IS NOT NULL"
        ),
        {"object": obj.id, "tenant": tenant_id},
    )
    return obj
