"""Recent records: ``GET /recent``, the page of the records the user opened last, and
``GET /recent/menu``, the same list as the app shell's Recent menu shows it.

The menu is fetched when it is first opened (shell.js), not read on every page: most
page views never open it, and the read and its rendering cost about a millisecond of
every screen (benchmarks/screens_bench.py). Without JavaScript the menu links here.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from trellis.records.recent import recent_views
from trellis.views.shell import screen

# The Recent menu and the home page show the same newest views.
RECENT_SHOWN = 10
RECENT_PAGE = 50

blueprint = Blueprint("recent", __name__)


@blueprint.get("/recent")
def recent_page() -> ResponseReturnValue:
    with screen() as current:
        recent = recent_views(current.connection, current.access, current.schema, RECENT_PAGE)
    return render_template("recent.html", recent=recent)


@blueprint.get("/recent/menu")
def recent_menu() -> ResponseReturnValue:
    with screen(with_shell=False) as current:
        recent = recent_views(current.connection, current.access, current.schema, RECENT_SHOWN)
    return render_template("components/recent_list.html", recent=recent)
