"""Setup → Build → List views (placeholder while it is built)."""

from __future__ import annotations

from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = ()
