"""Changing the workspace's API settings (request budget, browser origins) as a request
asks, with its audit event: shared by ``/api/v1/tenant/api-settings`` and Setup → API
access, so both refuse and record alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from trellis.access.api_tokens import Origin
from trellis.access.audit import record_audit
from trellis.actor import Actor
from trellis.identity.api_policy import api_settings, set_api_settings


def change_api_settings(
    connection: Connection, actor: Actor, changes: Mapping[str, Any], *, origin: Origin
) -> dict[str, Any]:
    """Apply ``changes`` (``rate_limit``, ``cors_origins``); return the settings now."""
    previous = set_api_settings(connection, actor, dict(changes))
    current = api_settings(connection, actor.tenant_id)
    changed = {
        name: [previous[name], current[name]] for name in current if current[name] != previous[name]
    }
    if changed:
        record_audit(
            connection,
            actor,
            "tenant.api_settings_changed",
            target_type="tenant",
            target_id=actor.tenant_id,
            details=changed,
            address=origin.address,
            user_agent=origin.user_agent,
        )
    return current
