"""The URL rules of the generated record screens: ``/o/<Object>`` (its list view,
trellis.views.list_screen) and ``/o/<Object>/<id>`` (a record page), which the
navigation, search results and recent records link to.

An object the reader may not read is 403, as the API's list is. The record page is not
built yet: it answers 404 once the object and the reader's right are checked. When it
lands, it reads its record through the gate (not found when unreadable) and records the
view with :func:`trellis.records.recent.remember_view`.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from trellis.errors import NotFound
from trellis.views import list_screen

# Other screens find it here too.
from trellis.views.shell import readable_object as readable_object
from trellis.views.shell import screen

blueprint = Blueprint("objects", __name__, url_prefix="/o")


@blueprint.get("/<api_name>")
def list_view(api_name: str) -> ResponseReturnValue:
    with screen() as current:
        return list_screen.list_page(current, readable_object(current, api_name))


@blueprint.get("/<api_name>/<record_id>")
def record_page(api_name: str, record_id: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
    raise NotFound(f"{obj.definition['label']} pages are not available yet.", code="not_built")
