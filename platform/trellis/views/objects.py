"""The URL rules of the generated record screens: ``/o/<Object>`` (its list view,
trellis.views.list_screen) and ``/o/<Object>/<id>`` (a record page,
trellis.views.record_page, with its actions in trellis.views.record_edits), which the
navigation, search results and recent records link to. An object the reader may not
read is 403, as the API's list is.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from trellis.views import list_screen, record_edits, record_page
from trellis.views.shell import readable_object, screen

blueprint = Blueprint("objects", __name__, url_prefix="/o")


@blueprint.get("/<api_name>")
def list_view(api_name: str) -> ResponseReturnValue:
    with screen() as current:
        return list_screen.list_page(current, readable_object(current, api_name))


# -- the record page and its actions -----------------------------------------------------
blueprint.add_url_rule("/<api_name>/<record_id>", "record_page", record_page.show)
record_edits.register(blueprint)
