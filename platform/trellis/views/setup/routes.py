"""Setup's blueprint with every screen's routes on it: each module here adds its routes
when imported, so this is the one list of Setup's screens the app registers."""

from __future__ import annotations

from trellis.views.setup import overview
from trellis.views.setup.screen import blueprint

SCREENS = (overview,)

__all__ = ["SCREENS", "blueprint"]
