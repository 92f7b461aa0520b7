"""What a webhook subscription may see: everything when an administrator (or the
platform) created it, otherwise what its creator may read. A subscription of a user
receives only events of records they may read, without the fields hidden from them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.access.rights import Rights
from trellis.actor import Actor
from trellis.identity.users import user_actor
from trellis.metadata.compiled import ObjectSchema, TenantSchema


def subscription_reader(
    connection: Connection, schema: TenantSchema, subscription: Any, tenant_slug: str
) -> Access | None:
    """The access of the subscription's creator; None when they may read everything. A
    creator since deactivated reads nothing."""
    if subscription.created_by is None:
        return None
    owner = user_actor(connection, subscription.created_by, tenant_slug, schema.access)
    if owner is None:
        nobody = Actor(subscription.tenant_id, tenant_slug, subscription.created_by, None)
        return Access(nobody, schema, Rights(False, ()))
    access = Access.of(owner, schema)
    return None if access.everything else access


def visible_payload(
    reader: Access | None, obj: ObjectSchema, body: dict[str, Any]
) -> dict[str, Any]:
    """The delivery body without the fields the reader may not read."""
    if reader is None:
        return body
    hidden = reader.unreadable_fields(obj)
    if not hidden:
        return body

    def trimmed(values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {name: value for name, value in values.items() if name not in hidden}

    return {
        **body,
        "record": trimmed(body.get("record")),
        "prior": trimmed(body.get("prior")),
        "changes": trimmed(body.get("changes")),
    }
