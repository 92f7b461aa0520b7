"""The transaction of a Setup screen: the signed-in screen (its shell and metadata) and
the system right the screen needs, refused with a 403 page otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Blueprint

from trellis.errors import Forbidden
from trellis.views.setup.sections import may_open_setup
from trellis.views.shell import Screen, screen, signed_in_actor

blueprint = Blueprint("setup", __name__, url_prefix="/setup")


@contextlib.contextmanager
def setup_screen(
    right: str | tuple[str, ...] | None, *, with_shell: bool = True
) -> Iterator[Screen]:
    """A Setup screen's transaction for a user holding ``right`` (a tuple: any one of
    those rights; None: any of Setup's rights, for the overview)."""
    actor = signed_in_actor()
    if right is None:
        if not may_open_setup(actor):
            raise Forbidden("Setup is for administrators.", code="no_system_right")
    elif isinstance(right, tuple):
        actor.require_any_right(right)
    else:
        actor.require_right(right)
    with screen(with_shell=with_shell) as current:
        yield current
