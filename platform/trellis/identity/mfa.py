"""Two-factor sign-in with time-based one-time passwords (TOTP, RFC 6238, via pyotp).

A user enrols in a browser session: :func:`start_enrolment` stores a new secret and
returns it with its ``otpauth://`` URI for an authenticator app; two-factor sign-in is
on only once :func:`confirm_enrolment` has seen a current code from that app, which
also hands out the recovery codes (:mod:`trellis.identity.recovery_codes`).

A code is accepted for the current 30-second step and one step either side (clocks
drift), and never twice: the last step used is kept per user and a code must be of a
later step. The secret itself is stored as it is: Trellis has no facility for
encrypting data at rest yet, and the secret is never shown again after enrolment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pyotp
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from trellis.actor import Actor
from trellis.errors import Conflict, Forbidden, ValidationError
from trellis.identity.ratelimit import account_key, login_limiter
from trellis.identity.recovery_codes import consume_code, looks_like_recovery_code, replace_codes
from trellis.identity.tables import user_sessions, users
from trellis.identity.tenants import require_mfa_setting
from trellis.identity.users import get_user, require_user

ISSUER = "Trellis"
TOTP_CODE = re.compile(r"\d{6}")
WINDOW = 1  # steps accepted either side of the current one
# What the HTTP layers and the CLI record in the audit trail (trellis.access.audit).
AUDIT_ACTIONS = (
    "mfa.enabled",
    "mfa.disabled",
    "mfa.recovery_codes_regenerated",
    "login.mfa_failed",
    "login.recovery_code_used",
    "tenant.mfa_required_changed",
)


class WrongCode(ValidationError):
    """A second-factor code that is not (or no longer) valid; counts as a failed login."""

    def __init__(self, message: str = "The code is not correct, or was already used.") -> None:
        super().__init__(
            message,
            fields={"code": "Enter the current 6-digit code from your app, or a recovery code."},
            code="mfa_code_invalid",
        )


def provisioning_uri(secret: str, email: str, tenant_slug: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=f"{ISSUER} {tenant_slug}")


def matching_step(secret: str, code: str, at: dt.datetime | None = None) -> int | None:
    """The time step (within the window around ``at``) whose code ``code`` is, else None.

    Each candidate is compared in constant time, and all of them, so the answer's timing
    says nothing about which step (if any) matched."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at or dt.datetime.now(dt.UTC))
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def accept_totp(connection: Connection, user: Row, code: str) -> bool:
    """Whether ``code`` is a current code of ``user``'s secret not used before; an
    accepted code's step is recorded in the same statement that checks it is new, so
    two requests racing with one code cannot both pass."""
    code = re.sub(r"\s+", "", code)
    if not user.mfa_secret or not TOTP_CODE.fullmatch(code):
        return False
    step = matching_step(user.mfa_secret, code)
    if step is None:
        return False
    accepted = connection.execute(
        users.update()
        .where(
            users.c.id == user.id,
            sa.or_(users.c.mfa_last_step.is_(None), users.c.mfa_last_step < step),
        )
        .values(mfa_last_step=step)
    )
    return accepted.rowcount == 1


def check_second_factor(connection: Connection, user: Row, code: str) -> str | None:
    """``"totp"`` or ``"recovery_code"`` for the factor ``code`` proved (a recovery code
    is used up), None when it proves nothing."""
    code = code.strip() if isinstance(code, str) else ""
    if user.mfa_enabled_at is None or not code:
        return None
    if accept_totp(connection, user, code):
        return "totp"
    if looks_like_recovery_code(code) and consume_code(connection, user, code):
        return "recovery_code"
    return None


@contextlib.contextmanager
def counted_attempt(account: str, address: str | None) -> Iterator[None]:
    """Refuse at once when the account or address has used up its failed logins; count a
    :class:`WrongCode` raised inside as one more."""
    limiter = login_limiter()
    keys = limiter.keys_for(account, address)
    limiter.check(keys)
    try:
        yield
    except WrongCode:
        limiter.record_failure(keys)
        raise


def actor_attempt(actor: Actor, address: str | None) -> contextlib.AbstractContextManager[None]:
    """:func:`counted_attempt` for a signed-in user proving their factor again."""
    return counted_attempt(account_key(actor.tenant_slug, actor.email or ""), address)


def _own_user(connection: Connection, actor: Actor) -> Row:
    """The acting user, who must be in a browser session: a token stands in for a
    second factor, it does not manage one."""
    if actor.user_id is None or actor.session_id is None:
        raise Forbidden(
            "Two-factor sign-in is managed from a browser session, not with an API token.",
            code="session_required",
        )
    return get_user(connection, actor.user_id)


def mfa_status(connection: Connection, actor: Actor) -> dict[str, Any]:
    user = _own_user(connection, actor)
    return {
        "enabled": user.mfa_enabled_at is not None,
        "enabled_at": user.mfa_enabled_at.isoformat() if user.mfa_enabled_at else None,
        "enrolment_pending": user.mfa_enabled_at is None and user.mfa_secret is not None,
        "recovery_codes_left": len(user.mfa_recovery_codes),
        "required": require_mfa_setting(connection, actor.tenant_id),
    }


def pending_enrolment(connection: Connection, actor: Actor) -> dict[str, str] | None:
    """The secret and URI of the acting user's enrolment awaiting its first code, to set
    up the app with; None when there is none."""
    user = _own_user(connection, actor)
    if user.mfa_enabled_at is not None or user.mfa_secret is None:
        return None
    uri = provisioning_uri(user.mfa_secret, user.email, actor.tenant_slug)
    return {"secret": user.mfa_secret, "provisioning_uri": uri}


def start_enrolment(connection: Connection, actor: Actor) -> tuple[str, str]:
    """A new secret for the acting user and its provisioning URI; replaces an
    enrolment not yet confirmed."""
    user = _own_user(connection, actor)
    if user.mfa_enabled_at is not None:
        raise Conflict(
            "Two-factor sign-in is already on; turn it off first to move it to another app.",
            code="mfa_already_enabled",
        )
    secret = pyotp.random_base32()
    connection.execute(
        users.update()
        .where(users.c.id == user.id)
        .values(mfa_secret=secret, mfa_last_step=None, mfa_recovery_codes=[])
    )
    return secret, provisioning_uri(secret, user.email, actor.tenant_slug)


def confirm_enrolment(connection: Connection, actor: Actor, code: str) -> list[str]:
    """Switch two-factor sign-in on with a first code from the app; return the recovery
    codes (shown once).

    The session that confirmed counts as verified; the user's other sessions end, since
    whoever opened them proved only the password."""
    user = _own_user(connection, actor)
    if user.mfa_enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on.", code="mfa_already_enabled")
    if user.mfa_secret is None:
        raise Conflict("Start the enrolment first.", code="mfa_not_enrolling")
    if not accept_totp(connection, user, code):
        raise WrongCode()
    connection.execute(
        users.update().where(users.c.id == user.id).values(mfa_enabled_at=sa.func.now())
    )
    connection.execute(
        user_sessions.update()
        .where(user_sessions.c.id == actor.session_id)
        .values(mfa_verified_at=sa.func.now())
    )
    connection.execute(
        user_sessions.delete().where(
            user_sessions.c.user_id == user.id, user_sessions.c.id != actor.session_id
        )
    )
    return replace_codes(connection, user.id)


def _enabled_user(connection: Connection, actor: Actor) -> Row:
    user = _own_user(connection, actor)
    if user.mfa_enabled_at is None:
        raise Conflict("Two-factor sign-in is off.", code="mfa_not_enabled")
    return user


def disable(connection: Connection, actor: Actor, code: str) -> str:
    """Switch the acting user's two-factor sign-in off, proven with a current code or a
    recovery code; return which of the two it was."""
    user = _enabled_user(connection, actor)
    method = check_second_factor(connection, user, code)
    if method is None:
        raise WrongCode()
    switch_off(connection, user.id)
    return method


def regenerate_recovery_codes(connection: Connection, actor: Actor, code: str) -> list[str]:
    """A new set of recovery codes for the acting user, proven with a current code (or
    one of the old recovery codes); the old set stops working."""
    user = _enabled_user(connection, actor)
    if check_second_factor(connection, user, code) is None:
        raise WrongCode()
    return replace_codes(connection, user.id)


def reset_mfa(connection: Connection, actor: Actor, email: str) -> tuple[Row, bool]:
    """An administrator switches a user's two-factor sign-in off (a lost phone); return
    the user and whether it was on (or being enrolled)."""
    actor.require_admin()
    user = require_user(connection, email)
    was_on = user.mfa_enabled_at is not None or user.mfa_secret is not None
    switch_off(connection, user.id)
    return user, was_on


def switch_off(connection: Connection, user_id: uuid.UUID) -> None:
    connection.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(mfa_secret=None, mfa_enabled_at=None, mfa_last_step=None, mfa_recovery_codes=[])
    )
