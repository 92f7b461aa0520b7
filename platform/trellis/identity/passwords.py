"""Password hashing with Argon2id (argon2-cffi's recommended parameters), and the policy a
new password must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from trellis.errors import ValidationError

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing of a failed
# login the same whether or not the account exists.
_DUMMY_HASH = _hasher.hash("trellis-no-such-user")

DEFAULT_MIN_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of leaked password dumps, the list zxcvbn ships
    (lowercase), loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def min_length() -> int:
    """The configured minimum (``TRELLIS_PASSWORD_MIN_LENGTH``), read from the running app
    so that every code path that sets a password applies the same one."""
    if has_app_context() and "trellis" in current_app.extensions:
        return int(current_app.extensions["trellis"].config.password_min_length)
    return DEFAULT_MIN_LENGTH


def password_problem(password: str, minimum: int | None = None) -> str | None:
    """Why ``password`` may not be set, or None when it meets the policy."""
    minimum = min_length() if minimum is None else minimum
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(set(password)) == 1:
        return "Use more than one repeated character."
    if password.lower() in _common_passwords():
        return "This password is one of the most common ones; choose another."
    return None


def check_password(password: str, message: str) -> None:
    """Raise a ValidationError on the ``password`` field unless the policy is met."""
    problem = password_problem(password)
    if problem is not None:
        raise ValidationError(message, fields={"password": problem})
