"""Which records a list screen's mass action or export is about, and the export itself.

The list's form posts the ids of the rows ticked (``id``), or asks for the whole page
(``all_on_page``, with the rows' ids in ``page_ids``), or for every record matching the view
(``scope=view``, with the list's URL state). For the whole view the server runs the
view's filters and search again through the access gate, as the list itself does: ids
are never trusted beyond what the reader may see, and a record the reader may not
change is refused by the records service, one by one.
"""

from __future__ import annotations

import dataclasses
import uuid

from flask import Response
from werkzeug.datastructures import MultiDict

from trellis.downloads import streamed_csv
from trellis.errors import BadRequest
from trellis.metadata.compiled import ObjectSchema
from trellis.records import export
from trellis.records.batch import MAX_MASS, record_ids
from trellis.records.list_views import ViewColumn
from trellis.state import get_state
from trellis.views.list_actions import state_args
from trellis.views.list_page import view_and_state
from trellis.views.list_state import ListState, api_arguments, search_field
from trellis.views.shell import Screen, plural_label


@dataclasses.dataclass(frozen=True)
class Selection:
    ids: list[uuid.UUID]
    #: Every record matching the view (its ids found again on each step).
    whole_view: bool
    #: The list's URL state (its query string), to go back to and to find the view by.
    state: str


def list_state(
    current: Screen, obj: ObjectSchema, args: MultiDict[str, str]
) -> tuple[ListState, tuple[ViewColumn, ...]]:
    """The list state of a list URL's arguments and the columns it shows (a 400 when its
    filters are wrong)."""
    _, state, errors, choice = view_and_state(current, obj, args)
    if errors:
        raise BadRequest("The list's filters are wrong; fix them first.", fields=errors)
    return state, choice or state.view.columns


def selection(current: Screen, obj: ObjectSchema, form: MultiDict[str, str]) -> Selection:
    """The records a list form names (a 400 when none)."""
    raw_state = form.get("state", "")
    if form.get("scope") == "view":
        state, _ = list_state(current, obj, state_args(raw_state))
        return Selection(matching_ids(current, obj, state), True, raw_state)
    chosen = form.getlist("id")
    if form.get("all_on_page"):
        chosen = [*chosen, *form.get("page_ids", "").split()]
    return Selection(record_ids(chosen), False, raw_state)


def view_arguments(current: Screen, obj: ObjectSchema, state: ListState) -> dict[str, list[str]]:
    """The list request of every record of the state (its filters, search and sort)."""
    whole = dataclasses.replace(state, cursor=None, before=None, count=False)
    search_in = search_field(obj, current.schema, current.access)
    return api_arguments(whole, ["id"], search_in, current.actor.user_id, [])


def matching_ids(current: Screen, obj: ObjectSchema, state: ListState) -> list[uuid.UUID]:
    """The ids of every record the view shows the reader, in its order (a 400 when there
    are none, or more than a mass action takes)."""
    arguments = {**view_arguments(current, obj, state), "limit": [str(export.CHUNK)]}
    ids: list[uuid.UUID] = []
    for rows in export.pages(current.connection, current.access, current.schema, obj, arguments):
        ids += [uuid.UUID(row["id"]) for row in rows]
        if len(ids) > MAX_MASS:
            raise BadRequest(
                f"More than {MAX_MASS:,} {plural_label(obj).lower()} match this view; "
                "narrow it with a filter first.",
                code="too_many_records",
            )
    if not ids:
        raise BadRequest(f"No {plural_label(obj).lower()} match this view.")
    return ids


def export_response(
    current: Screen,
    obj: ObjectSchema,
    args: MultiDict[str, str],
    ids: list[uuid.UUID] | None = None,
) -> Response:
    """The records of the list URL ``args`` (or those of ``ids`` among them) as a CSV
    download, with the list's columns in its order (trellis.records.export). Checked
    (the export right, the filters) and audited before anything is sent."""
    state, shown = list_state(current, obj, args)
    paths = [column.field for column in shown]
    columns = export.export_columns(obj, current.schema, current.access, paths)
    extra = () if ids is None else (export.selected(ids),)
    chosen = export.Export(obj, view_arguments(current, obj, state), columns, extra)
    export.check_export(current.connection, current.access, current.schema, chosen)
    body = export.stream(get_state().database, current.access, current.schema, chosen)
    return streamed_csv(body, export.file_name(obj))
