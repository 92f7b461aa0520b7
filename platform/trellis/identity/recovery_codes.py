"""One-time recovery codes: the way in when the authenticator app is lost.

Ten random codes are shown once, when two-factor sign-in is switched on or the set is
regenerated, and only their SHA-256 digests are kept (on the user's row). Each code has
50 random bits and every guess counts against the login rate limit, so a fast digest is
the right storage, as for API tokens. Using a code removes it.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Row

from trellis.identity.tables import users
from trellis.identity.tokens import digest

CODE_COUNT = 10
# Lowercase base32: no characters that need escaping, no case to get wrong.
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
GROUP, GROUPS = 5, 2
SEPARATORS = re.compile(r"[\s-]+")


def new_codes() -> list[str]:
    """Ten fresh codes, as the user sees them (``abcde-fghij``)."""
    return [
        "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP)) for _ in range(GROUPS))
        for _ in range(CODE_COUNT)
    ]


def normalise(code: str) -> str:
    """The code as stored: lowercase, without the spaces and hyphens people type."""
    return SEPARATORS.sub("", code).lower()


def digests(codes: list[str]) -> list[bytes]:
    return [digest(normalise(code)) for code in codes]


def looks_like_recovery_code(code: str) -> bool:
    found = normalise(code)
    return len(found) == GROUP * GROUPS and all(char in ALPHABET for char in found)


def consume_code(connection: Connection, user: Row, code: str) -> bool:
    """Use up one of ``user``'s recovery codes; False if ``code`` is not one of them.

    Every stored digest is compared in constant time; the conditional update then makes
    the use atomic, so two requests racing with the same code cannot both succeed."""
    wanted = digest(normalise(code))
    matched = False
    for stored in user.mfa_recovery_codes:
        matched |= hmac.compare_digest(bytes(stored), wanted)
    if not matched:
        return False
    code_digest = sa.literal(wanted, sa.LargeBinary)
    removed = connection.execute(
        users.update()
        .where(users.c.id == user.id, code_digest == sa.func.any(users.c.mfa_recovery_codes))
        .values(
            mfa_recovery_codes=sa.func.array_remove(
                users.c.mfa_recovery_codes, code_digest, type_=ARRAY(sa.LargeBinary)
            )
        )
    )
    return removed.rowcount == 1


def replace_codes(connection: Connection, user_id: uuid.UUID) -> list[str]:
    """Give the user a new set of codes (the old ones stop working); return them."""
    codes = new_codes()
    connection.execute(
        users.update().where(users.c.id == user_id).values(mfa_recovery_codes=digests(codes))
    )
    return codes
