"""The sections of Setup, as its sidebar and overview list them, and who sees each.

Each screen module declares its sections (``SECTIONS``, a tuple of :class:`Section`);
:mod:`trellis.views.setup.routes` collects them in one list, so the sidebar, the
overview and the app shell's Setup link agree. A section is shown to a user holding its
system right (administrators hold all), and Setup itself to a user who holds any of
Setup's rights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from trellis.actor import Actor

GROUPS = ("Build", "Automate", "Access", "Metadata")
# Setup's rights, whether or not a section using them is built yet.
SETUP_RIGHTS = ("manage_metadata", "manage_users", "manage_automations", "view_audit")


@dataclasses.dataclass(frozen=True)
class Section:
    key: str
    label: str
    # The endpoint of the section's first screen.
    endpoint: str
    # The system right a user needs to see and use the section.
    right: str
    group: str
    description: str


def sections_for(sections: Iterable[Section], actor: Actor) -> list[Section]:
    """The sections ``actor`` may use, in sidebar order."""
    return [section for section in sections if actor.has_right(section.right)]


def may_open_setup(actor: Actor) -> bool:
    """Whether the app shell shows the Setup link: the user holds a right Setup serves."""
    return any(actor.has_right(right) for right in SETUP_RIGHTS)
