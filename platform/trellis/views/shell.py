"""The app shell every signed-in page shares (base.html): the objects the user may read
as navigation, the search box, the Recent menu (fetched when opened: views/recent.py)
and the user menu.

A screen opens its tenant transaction with :func:`screen`, which loads the shell in
that same transaction; pages that do not (the account page, error pages) get it from
:func:`app_shell` when the template asks, in a transaction of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from flask import Blueprint, abort, g, redirect, request, url_for
from sqlalchemy.engine import Connection

from trellis import request_transaction
from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.identity.auth import current_actor
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.state import get_state
from trellis.views import display
from trellis.views.field_values import list_url

blueprint = Blueprint("shell", __name__)
for _filter in (
    display.time_ago,
    display.timestamp,
    display.day,
    display.due,
    display.highlight,
    display.initials,
):
    blueprint.add_app_template_filter(_filter)


@dataclasses.dataclass(frozen=True)
class NavItem:
    api_name: str
    label: str

    @property
    def url(self) -> str:
        return list_url(self.api_name)


@dataclasses.dataclass(frozen=True)
class Shell:
    navigation: list[NavItem]


@dataclasses.dataclass(frozen=True)
class Screen:
    """What a signed-in screen works with: its transaction and the reader's metadata."""

    connection: Connection
    actor: Actor
    schema: TenantSchema
    access: Access
    shell: Shell


def plural_label(obj: ObjectSchema) -> str:
    return str(obj.definition.get("plural_label") or obj.definition.get("label") or obj.api_name)


def readable_object(current: Screen, api_name: str) -> ObjectSchema:
    """The object named in a screen's URL, if the reader may read its records (a 403
    otherwise, as the API's list answers; an unknown object is a 404)."""
    obj = current.schema.object(api_name)
    current.access.rights.require(obj.api_name, "read", str(obj.definition["label"]))
    return obj


def navigation(schema: TenantSchema, access: Access) -> list[ObjectSchema]:
    """The objects the reader may read, as the navigation lists them: the workspace's
    own alphabetically by plural label, then the platform's (Users)."""
    readable = (obj for obj in schema.objects.values() if access.rights.has(obj.api_name, "read"))
    return sorted(
        readable,
        key=lambda obj: (bool(obj.definition.get("managed_by")), plural_label(obj).lower()),
    )


def load_shell(schema: TenantSchema, access: Access) -> Shell:
    shell = Shell([NavItem(obj.api_name, plural_label(obj)) for obj in navigation(schema, access)])
    g.app_shell = shell
    return shell


def signed_in_actor() -> Actor:
    """The actor of a screen; anyone else is sent to sign in."""
    actor = current_actor()
    if actor is None:
        abort(redirect(url_for("ui.login")))
    return actor


@contextlib.contextmanager
def screen(with_shell: bool = True) -> Iterator[Screen]:
    """The signed-in actor's tenant transaction, their metadata and rights, and the shell
    (an empty one ``with_shell=False``: for the JSON and fragments scripts ask for, which
    show no shell)."""
    actor = signed_in_actor()
    state = get_state()
    with request_transaction.tenant(state.database, actor.tenant_id) as connection:
        schema = state.metadata_cache.get(connection, actor.tenant_id)
        access = Access.of(actor, schema)
        shell = load_shell(schema, access) if with_shell else Shell([])
        yield Screen(connection, actor, schema, access, shell)


def app_shell() -> Shell | None:
    """For base.html: the signed-in actor's shell, loaded once per request; None for
    nobody, and for a session that may only enrol in two-factor sign-in."""
    actor = current_actor()
    if actor is None or actor.mfa_enrolment_required:
        return None
    if "app_shell" not in g:
        state = get_state()
        with request_transaction.tenant(state.database, actor.tenant_id) as connection:
            schema = state.metadata_cache.get(connection, actor.tenant_id)
            load_shell(schema, Access.of(actor, schema))
    shell: Shell = g.app_shell
    return shell


def current_object() -> str | None:
    """The API name of the object the page is about, to mark it in the navigation (not
    on Setup's pages about an object: they are about its metadata, not its records)."""
    if request.blueprint == "setup":
        return None
    return (request.view_args or {}).get("api_name")


@blueprint.app_context_processor
def shell_context() -> dict[str, object]:
    return {"app_shell": app_shell, "current_object": current_object}
