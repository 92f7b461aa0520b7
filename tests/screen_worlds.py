"""A workspace for the screens' tests: objects a sales rep may and may not read, and
records whose names the search and the recent records find or must not.

- Account (open to all) and Deal (private: each rep reads their own) are readable by the
  rep's ``sales`` permission set; Secret ("Secret plans") is not.
- Records, by key: ``acme`` (Account "Acme Corporation"), ``globex`` (Account "Globex
  Ltd"), ``rep_deal`` (Deal "Acme expansion", the rep's), ``admin_deal`` (Deal "Acme
  renewal", the administrator's, not shared), ``secret`` (Secret "Acme takeover").
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

from access_helpers import PASSWORD, Member, create, member
from access_worlds import permission_set
from conftest import TenantFixture
from helpers import csrf_token
from sqlalchemy.engine import Connection

from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.identity.users import actor_for, require_user
from trellis.metadata.compiled import TenantSchema
from trellis.records.recent import remember_view


def _object(api_name: str, plural: str, **settings: Any) -> dict[str, Any]:
    return {
        "api_name": api_name,
        "label": api_name,
        "plural_label": plural,
        "fields": [{"api_name": "Name", "type": "text", "required": True}],
        **settings,
    }


OBJECTS = (
    _object("Account", "Accounts"),
    _object("Deal", "Deals", sharing_model="private"),
    _object("Secret", "Secret plans"),
)
SALES_RIGHTS = {"read": True, "create": True, "edit": True}


@dataclasses.dataclass
class ScreensWorld:
    tenant: TenantFixture
    rep: Member
    rep_email: str
    password: str
    ids: dict[str, str]


def build_screens_world(tenant: TenantFixture) -> ScreensWorld:
    for definition in OBJECTS:
        response = tenant.api("POST", "/api/v1/meta/objects", json=definition)
        assert response.status_code == 201, response.get_data(as_text=True)
    permission_set(tenant, "sales", objects={"Account": SALES_RIGHTS, "Deal": SALES_RIGHTS})
    rep = member(tenant, "rep", permission_sets=["sales"])
    ids = {
        "acme": create(tenant, "Account", Name="Acme Corporation"),
        "globex": create(tenant, "Account", Name="Globex Ltd"),
        "admin_deal": create(tenant, "Deal", Name="Acme renewal"),
        "rep_deal": create(tenant, "Deal", token=rep.token, Name="Acme expansion"),
        "secret": create(tenant, "Secret", Name="Acme takeover"),
    }
    return ScreensWorld(tenant, rep, f"rep@{tenant.slug}.test", PASSWORD, ids)


@dataclasses.dataclass
class Reading:
    """A user's view of the workspace in one transaction, as a screen has it."""

    connection: Connection
    actor: Actor
    schema: TenantSchema
    access: Access

    def remember(self, api_name: str, record_id: str) -> None:
        remember_view(
            self.connection, self.actor, self.schema.object(api_name), uuid.UUID(record_id)
        )


@contextlib.contextmanager
def reading(tenant: TenantFixture, email: str) -> Iterator[Reading]:
    state = tenant.app.extensions["trellis"]
    with state.database.tenant(tenant.id) as connection:
        actor = actor_for(require_user(connection, email), tenant.slug)
        schema = state.metadata_cache.get(connection, tenant.id)
        yield Reading(connection, actor, schema, Access.of(actor, schema))


def sign_in(client: Any, tenant: TenantFixture, email: str, password: str) -> None:
    """Sign a Flask test client in through the login form."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "tenant": tenant.slug, "email": email, "password": password},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
