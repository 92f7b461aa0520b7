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
from trellis.identity.api_policy import checked_rate_limit
from trellis.identity.tokens import create_token, revoke_token, set_token_rate_limit
from trellis.state import get_state

MAX_DAYS = 3650


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a request came from, for its audit event."""

    address: str | None = None
    user_agent: str | None = None


def check_rate_limit(actor: Actor, value: object) -> int | None:
    """A token's own requests per minute as asked: only an administrator may give a token
    more than the budget its creator has (their token's, else the workspace's)."""
    limit = checked_rate_limit(value)
    ceiling = actor.api_policy.requests_per_minute or get_state().config.api_rate_limit
    if limit is not None and limit > ceiling and not actor.is_admin:
        raise ValidationError(
            "Only an administrator can raise a token's rate limit.",
            fields={"rate_limit": f"At most {ceiling} requests a minute."},
        )
    return limit


def check_request(
    actor: Actor, body: Mapping[str, Any]
) -> tuple[str, list[str], dt.datetime | None, int | None]:
    """The name, scopes, expiry and own rate limit a token request asks for, or a
    :class:`ValidationError`."""
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
    return name, scopes, expires_at, check_rate_limit(actor, body.get("rate_limit"))


def issue_token(
    connection: Connection, actor: Actor, body: Mapping[str, Any], *, origin: Origin = Origin()
) -> tuple[str, Row[Any]]:
    """A new token for the actor (the plaintext, shown once, and the stored row)."""
    name, scopes, expires_at, rate_limit = check_request(actor, body)
    assert actor.user_id is not None  # check_request refused the platform's actor
    token, row = create_token(
        connection,
        actor,
        user_id=actor.user_id,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        rate_limit=rate_limit,
    )
    record_audit(
        connection,
        actor,
        "token.created",
        target_type="api_token",
        target_id=row.id,
        details={
            "name": row.name,
            "user_id": str(row.user_id),
            "scopes": list(row.scopes),
            "rate_limit": row.rate_limit,
        },
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


def change_token_rate_limit(
    connection: Connection,
    actor: Actor,
    token_id: uuid.UUID,
    body: Mapping[str, Any],
    *,
    origin: Origin = Origin(),
) -> Row[Any]:
    """Give one of the actor's tokens (anyone's, for an administrator) its own rate limit,
    or (null) the workspace's again."""
    if set(body) != {"rate_limit"}:
        raise ValidationError(
            "Only a token's rate_limit can change.",
            fields={"rate_limit": "Requests a minute, or null for the workspace's."},
        )
    limit = check_rate_limit(actor, body["rate_limit"])
    previous, row = set_token_rate_limit(connection, actor, token_id, limit)
    if previous != limit:
        record_audit(
            connection,
            actor,
            "token.rate_limit_changed",
            target_type="api_token",
            target_id=token_id,
            details={"rate_limit": [previous, limit]},
            address=origin.address,
            user_agent=origin.user_agent,
        )
    return row
