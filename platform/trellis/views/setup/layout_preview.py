"""The layout editor's preview: a real record of the object shown in the unsaved layout,
by the record page's own reading and templates (trellis.views.record_page), read only.

The draft is checked as a save checks it, without saving: a draft the checks refuse
has no preview, only its problems.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from trellis.errors import Forbidden, NotFound, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.documents import validate_object
from trellis.metadata.layouts import Layout, layout_of
from trellis.state import get_state
from trellis.views.lookup_options import Option, first_records
from trellis.views.record_layout import shown_tab
from trellis.views.record_page import RecordPage, build_page
from trellis.views.setup.layout_draft import Problem, problems, with_draft
from trellis.views.shell import Screen

#: The records the preview offers to show, newest names first.
RECORD_CHOICES = 50


@dataclasses.dataclass
class Preview:
    """What the preview panel shows: the page, or why there is none."""

    records: list[Option]
    record_id: str = ""
    tab_name: str = ""
    tabs: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    page: RecordPage | None = None
    message: str = ""
    problems: list[Problem] = dataclasses.field(default_factory=list)


def draft_layout(current: Screen, obj: ObjectSchema, draft: Any) -> Layout:
    """The draft as the record page would resolve it; :class:`ValidationError` if the
    checks of a save refuse its shape or its fields."""
    known = [each.api_name for each in current.schema.objects.values()]
    registry = get_state().metadata_cache.registry
    definition = validate_object(with_draft(obj, draft), registry, known_objects=known)
    return layout_of(current.schema, dataclasses.replace(obj, definition=definition))


def blank_preview(current: Screen, obj: ObjectSchema) -> Preview:
    """The preview panel before anything is previewed: the records it may show."""
    records, _ = first_records(current, obj, RECORD_CHOICES)
    return Preview(records, records[0].value if records else "")


def build_preview(
    current: Screen, obj: ObjectSchema, draft: Any, record_id: str, tab_name: str
) -> Preview:
    """The preview of ``draft`` on record ``record_id`` (the first record offered when
    none is chosen), on tab ``tab_name`` (else the draft's first)."""
    preview = blank_preview(current, obj)
    preview.record_id = record_id or preview.record_id
    if not preview.record_id:
        preview.message = "There is no record to preview with yet: create one first."
        return preview
    if draft is None:
        return preview
    try:
        layout = draft_layout(current, obj, draft)
    except ValidationError as error:
        preview.problems = problems(error.fields, draft, error.message)
        preview.message = "Fix the layout to see it on a record."
        return preview
    preview.tabs = [(tab.name, tab.label) for tab in layout.tabs]
    names = [name for name, _ in preview.tabs]
    preview.tab_name = tab_name if tab_name in names else names[0]
    try:
        page = build_page(current, obj, preview.record_id, preview.tab_name, layout=layout)
    except (NotFound, Forbidden):
        preview.message = "That record is not there (or not yours to read): choose another."
        return preview
    preview.page = read_only(page)
    return preview


def read_only(page: RecordPage) -> RecordPage:
    """The page without its actions: a preview shows the layout, it changes nothing."""
    page.can_edit = page.can_delete = page.path_editable = False
    if page.tab is not None:
        page.tab = shown_tab(
            page.tab.tab, page.obj, page.current.access, False, page.hidden, page.locked
        )
    return page
