"""The User object: every user of a workspace as a record that administrators extend.

The platform creates the object (``managed_by: users``) the first time a user is made
or changed through the API or the command line, and keeps one record per user, whose
id is the user's id, in step with the account: ``Name``, ``Email``, ``Manager`` (a
lookup to User, from the user's manager) and ``Active``. Those fields are the
platform's; fields an administrator adds (department, region, quota…) are theirs, and
every formula reads them as ``$User.<Field>`` of the acting user, or through any lookup
to User. User records are created and removed only with their users, and have no owner,
so only administrators (and modify all) change the added fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.actor import system_actor
from trellis.errors import Forbidden
from trellis.metadata.compiled import MetadataCache, ObjectSchema, TenantSchema
from trellis.metadata.service import MetadataService

MANAGED_BY = "users"
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


def user_object(schema: TenantSchema) -> ObjectSchema | None:
    """The platform's User object, if the workspace has it (an object of its own that
    happens to be called User is not it)."""
    found = schema.objects.get("user")
    return found if found is not None and found.definition.get("managed_by") == MANAGED_BY else None


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
    connection.execute(
        sa.text(
            "INSERT INTO records (tenant_id, id, object_id, data, owner_id) "
            "SELECT u.tenant_id, u.id, :object, jsonb_strip_nulls(jsonb_build_object("
            "'Name', u.display_name, 'Email', u.email, 'Manager', u.manager_id::text, "
            "'Active', u.active)), NULL FROM users u WHERE u.tenant_id = :tenant "
            "ON CONFLICT (tenant_id, id) DO UPDATE SET "
            f"data = (records.data - ARRAY[{managed}]) || EXCLUDED.data, "
            "version = records.version + 1, updated_at = now() "
            f"WHERE records.data - ARRAY[{managed}] || EXCLUDED.data IS DISTINCT FROM records.data"
        ),
        {"object": obj.id, "tenant": tenant_id},
    )
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
