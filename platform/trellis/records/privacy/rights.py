"""Who may export or erase a person's data."""

from __future__ import annotations

from trellis.actor import Actor


def require_privacy_officer(actor: Actor) -> None:
    """Administrators, for now. This is the one place to change when the "manage users"
    right arrives: every privacy operation, in the API and on the command line, asks here."""
    actor.require_right("manage_users")
