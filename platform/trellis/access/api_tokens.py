"""Issuing and revoking API tokens as a request asks: the checks of what is asked, the
token itself (:mod:`trellis.identity.tokens`) and its audit event, shared by
``/api/v1/tokens`` and the Setup screen so both refuse and record alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection, Row

from trellis.access.audit import record_audit
from trellis.actor import TOKEN_SCOPES, Actor
from trellis.errors import Forbidden, ValidationError
from trellis.identity.tokens import create_token, revoke_token

MAX_DAYS = 3650


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a request came from, for its audit event."""

    address: str | None = None
    user_agent: str | None = None


def check_request(
    actor: Actor, body: Mapping[str, Any]
) -> tuple[str, list[str], dt.datetime | None]:
    """The name, scopes and expiry a token request asks for, or a :class:`ValidationError`."""
    if actor.user_id is None:  # the platform's own actor: no request authenticates as it
        raise Forbidden("API tokens belong to users.")
    expires_at = None
    if body.get("expires_in_days") is not None:
        days = body["expires_in_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
            raise ValidationError(
                "Invalid expiry.",
                fields={"expires_in_days": f"A whole number of days, 1–{MAX_DAYS}."},
            )
        expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    scopes = body.get("scopes", list(TOKEN_SCOPES))
    name = body.get("name")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValidationError("Invalid scopes.", fields={"scopes": "A list of scope names."})
    if not isinstance(name, str):
        raise ValidationError("A token needs a name.", fields={"name": "Required text."})
    # A token can never carry more than the token that creates it.
    if actor.scopes is not None and not set(scopes) <= set(actor.scopes):
        raise ValidationError(
            "A token cannot grant scopes its creator lacks.",
            fields={"scopes": f"At most {', '.join(actor.scopes)}."},
        )
    return name, scopes, expires_at


def issue_token(
    connection: Connection, actor: Actor, body: Mapping[str, Any], *, origin: Origin = Origin()
) -> tuple[str, Row[Any]]:
    """A new token for the actor (the plaintext, shown once, and the stored row)."""
    name, scopes, expires_at = check_request(actor, body)
    assert actor.user_id is not None  # check_request refused the platform's actor
    token, row = create_token(
        connection, actor, user_id=actor.user_id, name=name, scopes=scopes, expires_at=expires_at
    )
    record_audit(
        connection,
        actor,
        "token.created",
        target_type="api_token",
        target_id=row.id,
        details={"name": row.name, "user_id": str(row.user_id), "scopes": list(row.scopes)},
        address=origin.address,
        user_agent=origin.user_agent,
    )
    return token, row


def withdraw_token(
    connection: Connection, actor: Actor, token_id: uuid.UUID, *, origin: Origin = Origin()
) -> None:
    """Revoke one of the actor's tokens (anyone's, for an administrator)."""
    revoke_token(connection, actor, token_id)
    record_audit(
        connection,
        actor,
        "token.revoked",
        target_type="api_token",
        target_id=token_id,
        address=origin.address,
        user_agent=origin.user_agent,
    )
