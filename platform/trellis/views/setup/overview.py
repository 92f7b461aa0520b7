"""Setup's overview page: its sections, grouped, each with what it is for."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import GROUPS, sections_for


@blueprint.get("/")
def overview() -> ResponseReturnValue:
    with setup_screen(None) as current:
        sections = sections_for(current.actor)
        groups = [(group, [s for s in sections if s.group == group]) for group in GROUPS]
        return render_template("setup/overview.html", groups=[(g, s) for g, s in groups if s])
