"""The URL rules of the generated record screens: ``/o/<Object>`` (its list view) and
``/o/<Object>/<id>`` (a record page), which the navigation, search results and recent
records link to.

The screens themselves are not built yet: both rules answer 404 once the object and
the reader's right to read it are checked (an object they may not read is 403, as the
API's list is). The record page, when it lands, reads its record through the gate (not
found when unreadable) and records the view with
:func:`trellis.records.recent.remember_view`.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from trellis.errors import NotFound
from trellis.metadata.compiled import ObjectSchema
from trellis.views.shell import Screen, plural_label, screen

blueprint = Blueprint("objects", __name__, url_prefix="/o")


def readable_object(current: Screen, api_name: str) -> ObjectSchema:
    """The object named in the URL, if the reader may read its records."""
    obj = current.schema.object(api_name)
    current.access.rights.require(obj.api_name, "read", str(obj.definition["label"]))
    return obj


@blueprint.get("/<api_name>")
def list_view(api_name: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
    raise NotFound(f"The {plural_label(obj)} list is not available yet.", code="not_built")


@blueprint.get("/<api_name>/<record_id>")
def record_page(api_name: str, record_id: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
    raise NotFound(f"{obj.definition['label']} pages are not available yet.", code="not_built")
