"""Tenants: the organisations sharing one Trellis deployment."""

from __future__ import annotations

import re
import uuid
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.actor import Actor
from trellis.errors import Conflict, NotFound, ValidationError
from trellis.identity.tables import tenants

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")


def create_tenant(owner_connection: Connection, slug: str, name: str | None = None) -> Row:
    """Create a tenant. Runs as the table owner: tenants are platform rows, not tenant data."""
    if not SLUG_PATTERN.fullmatch(slug or ""):
        raise ValidationError(
            "A tenant slug is 2–63 lowercase letters, digits or hyphens.",
            fields={"slug": "Use lowercase letters, digits and hyphens."},
        )
    exists = owner_connection.execute(sa.select(tenants.c.id).where(tenants.c.slug == slug))
    if exists.first():
        raise Conflict(f"Tenant {slug!r} already exists.", fields={"slug": "Already taken."})
    return owner_connection.execute(
        tenants.insert().values(slug=slug, name=name or slug).returning(*tenants.c)
    ).one()


def get_tenant(
    connection: Connection, *, slug: str | None = None, tenant_id: uuid.UUID | None = None
) -> Row:
    query = sa.select(tenants).where(tenants.c.active)
    query = query.where(tenants.c.slug == slug) if slug else query.where(tenants.c.id == tenant_id)
    row = connection.execute(query).first()
    if row is None:
        raise NotFound(f"No tenant {slug or tenant_id!s}.", code="unknown_tenant")
    return row


def list_tenants(connection: Connection) -> list[Row]:
    """Every tenant, active or not, by slug."""
    return list(connection.execute(sa.select(tenants).order_by(tenants.c.slug)))


def set_require_mfa(connection: Connection, actor: Actor, required: bool) -> bool:
    """Require (or stop requiring) two-factor sign-in of every user of the actor's tenant;
    return the previous setting. Users without it may then only enrol until they do
    (trellis.identity.auth); API tokens are not affected."""
    actor.require_admin()
    if not isinstance(required, bool):
        raise ValidationError(
            "require_mfa must be true or false.", fields={"require_mfa": "true or false"}
        )
    # tenants has no row-level security (it is the platform's table): the id is explicit.
    previous = connection.execute(
        sa.select(tenants.c.require_mfa).where(tenants.c.id == actor.tenant_id).with_for_update()
    ).scalar_one()
    connection.execute(
        tenants.update().where(tenants.c.id == actor.tenant_id).values(require_mfa=required)
    )
    return bool(previous)


def require_mfa_setting(connection: Connection, tenant_id: uuid.UUID) -> bool:
    return bool(
        connection.execute(
            sa.select(tenants.c.require_mfa).where(tenants.c.id == tenant_id)
        ).scalar_one()
    )


# -- the list views stamp ---------------------------------------------------------------
# The stamps the session lookup read, by transaction (as metadata revisions are noted).
_KNOWN_STAMPS: weakref.WeakKeyDictionary[Any, tuple[uuid.UUID, int]] = weakref.WeakKeyDictionary()


def note_list_views_stamp(connection: Connection, tenant_id: uuid.UUID, stamp: int) -> None:
    """Remember the tenant's list views stamp a statement of this transaction read at
    its start (the session lookup, which joins the tenant's row anyway)."""
    _KNOWN_STAMPS[connection.get_transaction()] = (tenant_id, stamp)


def known_list_views_stamp(connection: Connection, tenant_id: uuid.UUID) -> int | None:
    """The stamp noted in this transaction, if one was and this transaction has not
    changed a list view since."""
    known = _KNOWN_STAMPS.get(connection.get_transaction())
    return known[1] if known is not None and known[0] == tenant_id else None


def move_list_views_stamp(connection: Connection, tenant_id: uuid.UUID) -> None:
    """A list view or a column choice of the tenant changes in this transaction: move the
    stamp (committed with the change, undone with it) and stop trusting the one noted."""
    _KNOWN_STAMPS.pop(connection.get_transaction(), None)
    connection.execute(
        tenants.update()
        .where(tenants.c.id == tenant_id)
        .values(list_views_stamp=tenants.c.list_views_stamp + 1)
    )
