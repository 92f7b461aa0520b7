"""The URL rules of the generated record screens: ``/o/<Object>`` (its list view) and
``/o/<Object>/<id>`` (a record page), which the navigation, search results and recent
records link to.

The list view is not built yet: it answers 404 once the object and the reader's right to
read it are checked (an object they may not read is 403, as the API's list is). The
record page and its actions are trellis.views.record_page and trellis.views.record_edits.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from trellis.errors import NotFound
from trellis.views import record_edits, record_page
from trellis.views.shell import plural_label, readable_object, screen

blueprint = Blueprint("objects", __name__, url_prefix="/o")


@blueprint.get("/<api_name>")
def list_view(api_name: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
    raise NotFound(f"The {plural_label(obj)} list is not available yet.", code="not_built")


# -- the record page and its actions -----------------------------------------------------
blueprint.add_url_rule("/<api_name>/<record_id>", "record_page", record_page.show)
record_edits.register(blueprint)
