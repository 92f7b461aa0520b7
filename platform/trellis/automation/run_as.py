"""Whose rights an automation's actions run with: the platform's (``run_as: system``, the
default: every right) or its owner's (``run_as: owner``: their permission sets and
sharing, so the automation can do no more than that user could by hand). Each run records
which, for its log."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from sqlalchemy.engine import Connection

from trellis.actor import Actor, system_actor
from trellis.identity.users import user_actor
from trellis.metadata.access_documents import AccessMetadata


@dataclasses.dataclass(frozen=True)
class RunAs:
    actor: Actor
    label: str  # system, or user:<email>
    problem: str | None = None  # why the run cannot start
    # Whose $User the run's formulas read, when not the actor's: the user whose change
    # triggered the run.
    user: Actor | None = None

    @property
    def formulas_actor(self) -> Actor:
        """The actor whose ``$``-globals the run's formulas read."""
        return self.user or self.actor


def run_as(
    connection: Connection,
    tenant_id: uuid.UUID,
    tenant_slug: str,
    automation: dict[str, Any] | None,
    access: AccessMetadata,
) -> RunAs:
    """The actor of a run of ``automation``, with the system rights ``access`` gives an
    owner, as authentication would."""
    platform = system_actor(tenant_id, tenant_slug)
    if automation is None or automation.get("run_as", "system") == "system":
        return RunAs(platform, "system")
    try:
        owner_id = uuid.UUID(str(automation.get("owner_id")))
    except ValueError:
        return RunAs(platform, "owner", "The automation names no owner to run as.")
    owner = user_actor(connection, owner_id, tenant_slug, access)
    if owner is None:
        return RunAs(platform, f"user:{owner_id}", "The automation's owner is not an active user.")
    return RunAs(owner, f"user:{owner.email}")
