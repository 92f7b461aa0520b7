"""Setup's overview page: its sections, grouped, each with what it is for."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = ()


@blueprint.get("/")
def overview() -> ResponseReturnValue:
    with setup_screen(None):
        return render_template("setup/overview.html")
