"""A record's owner: a user of the tenant."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.actor import Actor
from trellis.errors import ValidationError
from trellis.identity.tables import users


def valid_owner(connection: Connection, actor: Actor, owner_id: Any) -> uuid.UUID | None:
    """``owner_id`` as a user id of the actor's tenant, or a field error."""
    if owner_id is None:
        return None
    if owner_id == actor.user_id:
        return owner_id  # authentication already found this user, active
    try:
        parsed = uuid.UUID(str(owner_id))
    except ValueError:
        raise ValidationError("Invalid owner.", fields={"owner_id": "Not a user id."}) from None
    exists = connection.execute(
        sa.select(users.c.id).where(users.c.tenant_id == actor.tenant_id, users.c.id == parsed)
    ).first()
    if exists is None:
        raise ValidationError("Invalid owner.", fields={"owner_id": "No such user."})
    return parsed


class Owners:
    """:func:`valid_owner` for the records of one batch: each distinct owner is looked up
    once, however many records it owns (a refused one is refused for each)."""

    def __init__(self, connection: Connection, actor: Actor) -> None:
        self.connection = connection
        self.actor = actor
        self._checked: dict[str, uuid.UUID | None | ValidationError] = {}

    def valid(self, owner_id: Any) -> uuid.UUID | None:
        key = repr(owner_id)
        if key not in self._checked:
            try:
                self._checked[key] = valid_owner(self.connection, self.actor, owner_id)
            except ValidationError as error:
                self._checked[key] = error
        result = self._checked[key]
        if isinstance(result, ValidationError):
            raise result
        return result
