"""What the Access screens share: a write in a savepoint (a refused one keeps nothing and
comes back as the error to show), field errors for a form, the services the API's access
endpoints use, and the audit record of a screen's own actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request

from trellis.access.audit import record_audit
from trellis.access.definitions import AccessDefinitions
from trellis.errors import Forbidden, NotFound, TrellisError
from trellis.identity.users import list_users
from trellis.metadata.service import MetadataService
from trellis.records.users import sync_users
from trellis.state import get_state
from trellis.views.shell import Screen

T = TypeVar("T")


def attempt(current: Screen, write: Callable[[], T]) -> tuple[T | None, TrellisError | None]:
    """Run ``write`` in a savepoint: its result, or the error that refused it (and
    nothing of it kept). A missing thing or a missing right is the page's answer, not a
    form's, so those propagate."""
    savepoint = current.connection.begin_nested()
    try:
        result = write()
    except (NotFound, Forbidden):
        savepoint.rollback()
        raise
    except TrellisError as error:
        savepoint.rollback()
        return None, error
    savepoint.commit()
    return result, None


def field_messages(error: TrellisError | None) -> dict[str, str]:
    """The first message of each field the error names, for a form to show inline."""
    if error is None:
        return {}
    return {name: messages[0] for name, messages in error.fields.items() if messages}


def definitions(current: Screen) -> AccessDefinitions:
    """Roles and permission sets, as ``/api/v1/meta/roles`` and ``permission-sets`` edit
    them."""
    return AccessDefinitions(current.connection, current.actor, get_state().metadata_cache)


def metadata(current: Screen, right: str = "manage_metadata") -> MetadataService:
    """The metadata service, as the API builds it (the sharing endpoints' own)."""
    return MetadataService(current.connection, current.actor, get_state().metadata_cache, right)


def fresh_schema(current: Screen) -> Any:
    """The tenant's metadata as it is now in the screen's transaction (after a save)."""
    return get_state().metadata_cache.get(current.connection, current.actor.tenant_id)


def objects_by_label(schema: Any) -> list[Any]:
    """The tenant's objects, as the Access screens list them."""
    return sorted(schema.objects.values(), key=lambda o: str(o.definition.get("label")).lower())


def sync_user_records(current: Screen) -> None:
    """Keep the User object's records in step with accounts just changed, as the users
    API does after each change."""
    actor = current.actor
    sync_users(current.connection, get_state().metadata_cache, actor.tenant_id, actor.tenant_slug)


def audit(
    current: Screen,
    action: str,
    target_type: str,
    target_id: str | uuid.UUID,
    **details: Any,
) -> None:
    """Record an action of the screen's user, from the browser."""
    record_audit(
        current.connection,
        current.actor,
        action,
        target_type=target_type,
        target_id=target_id,
        details={**details, "via": "browser"},
        address=request.remote_addr,
        user_agent=request.user_agent.string,
    )


def user_choices(current: Screen) -> list[Any]:
    """Every user, by email, for a form that picks users."""
    return list_users(current.connection)


def parse_uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"No {what} {raw}.") from None
