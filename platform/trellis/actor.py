"""Who is acting: a user (through a browser session or an API token) in one tenant.

Services receive an :class:`Actor` beside the connection, so permission checks
live in one place instead of being scattered through views.
"""

from __future__ import annotations

import dataclasses
import uuid

from trellis.errors import Forbidden

ADMIN_ROLE = "admin"
# Scopes an API token may carry. "read" permits safe methods only.
TOKEN_SCOPES = ("read", "write", "admin")


@dataclasses.dataclass(frozen=True)
class ApiPolicy:
    """What the actor's tenant (and token) allow of API calls, read with the actor so that
    enforcing it costs no query: requests per minute (None: the deployment's default),
    whether the token set its own, and the browser origins allowed to call (CORS)."""

    requests_per_minute: int | None = None
    token_override: bool = False
    cors_origins: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Actor:
    tenant_id: uuid.UUID
    tenant_slug: str
    user_id: uuid.UUID | None
    email: str | None
    roles: tuple[str, ...] = ()
    # The user's place in the role hierarchy and their permission sets (metadata names);
    # trellis.access turns them into rights.
    role: str | None = None
    permission_sets: tuple[str, ...] = ()
    # The system rights those permission sets grant (resolved at authentication).
    rights: frozenset[str] = frozenset()
    token_id: uuid.UUID | None = None
    # None: not a token, so the user's roles alone decide.
    scopes: tuple[str, ...] | None = None
    # The browser session acted through, if any (MFA enrolment marks it verified).
    session_id: uuid.UUID | None = None
    # The tenant requires two-factor sign-in and this user has not enrolled yet: the
    # session may enrol and sign out, nothing else (trellis.identity.auth).
    mfa_enrolment_required: bool = False
    api_policy: ApiPolicy = ApiPolicy()

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles and self.has_scope("admin")

    def has_scope(self, scope: str) -> bool:
        if self.scopes is None:
            return True
        if scope == "read":
            return bool(self.scopes)
        return scope in self.scopes or "admin" in self.scopes

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("This needs an administrator.")

    def has_right(self, right: str) -> bool:
        """A system right (``manage_metadata``, ``view_audit``…): administrators hold every
        one; a token needs the admin scope to use any but ``api``."""
        held = ADMIN_ROLE in self.roles or right in self.rights
        return held and (right == "api" or self.has_scope("admin"))

    def require_right(self, right: str) -> None:
        if not self.has_right(right):
            raise Forbidden(
                f"This needs the {right.replace('_', ' ')} right.", code="no_system_right"
            )

    def require_any_right(self, rights: tuple[str, ...]) -> None:
        """One of ``rights`` (a screen several rights use, such as the formula editor)."""
        if not any(self.has_right(right) for right in rights):
            named = " or ".join(right.replace("_", " ") for right in rights)
            raise Forbidden(f"This needs the {named} right.", code="no_system_right")

    def require_scope(self, scope: str) -> None:
        if not self.has_scope(scope):
            raise Forbidden(f"This token lacks the {scope!r} scope.")

    def to_dict(self) -> dict:
        return {
            "tenant": {"id": str(self.tenant_id), "slug": self.tenant_slug},
            "user": {"id": str(self.user_id) if self.user_id else None, "email": self.email},
            "roles": list(self.roles),
            "role": self.role,
            "permission_sets": list(self.permission_sets),
            "token": (
                {"id": str(self.token_id), "scopes": list(self.scopes or ())}
                if self.token_id
                else None
            ),
        }


def system_actor(tenant_id: uuid.UUID, tenant_slug: str) -> Actor:
    """The platform itself (CLI, seed scripts, background jobs) acting in a tenant."""
    return Actor(
        tenant_id=tenant_id, tenant_slug=tenant_slug, user_id=None, email=None, roles=(ADMIN_ROLE,)
    )
