"""The record page, ``/o/<Object>/<id>``: the record's name and object, its actions, its
highlights and path, then the tabs of its layout (trellis.metadata.layouts) and History.

A tab is a link (``?tab=<name>``) that works without JavaScript; record.js swaps the tab
panel in place, asking for the panel alone (the ``X-Trellis-Fragment: tab`` header). A
record the reader may not read is the 404 page; an object they may not read, the 403.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from trellis.metadata.compiled import CompiledField, ObjectSchema
from trellis.metadata.layout_checks import HISTORY_TAB
from trellis.metadata.layouts import Layout, LayoutItem, field_label, layout_of
from trellis.records.conditions import FieldConditions
from trellis.records.history import HistoryEntry
from trellis.records.recent import remember_view
from trellis.records.rules import RuleContext
from trellis.views import field_values
from trellis.views.form_model import Control, control_for
from trellis.views.record_data import (
    History,
    RelatedRows,
    read_history,
    read_record,
    read_runs,
    related_rows,
    user_names,
)
from trellis.views.record_layout import (
    ShownItem,
    ShownTab,
    conditions,
    editable_in_place,
    readable_layout,
    shown_fields,
    shown_tab,
)
from trellis.views.shell import Screen, readable_object, screen

FRAGMENT_HEADER = "X-Trellis-Fragment"


@dataclasses.dataclass
class RecordPage:
    """Everything the page template shows."""

    current: Screen
    obj: ObjectSchema
    record: dict[str, Any]
    version: int
    layout: Layout
    tab_name: str
    tab: ShownTab | None  # None on the History tab
    can_edit: bool
    can_delete: bool
    path_editable: bool
    # Fields whose visible_when / read_only_when say hidden / read only on this record.
    hidden: frozenset[str] = frozenset()
    locked: frozenset[str] = frozenset()
    related: list[RelatedRows] = dataclasses.field(default_factory=list)
    users: dict[str, str] = dataclasses.field(default_factory=dict)
    history: History | None = None
    runs: list[Any] | None = None
    # The field being edited in place (see edit) and its control.
    editing: str | None = None
    editor: Control | None = None
    path_errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def name(self) -> str:
        value = self.record.get(self.obj.name_field) if self.obj.find(self.obj.name_field) else None
        return str(value) if value not in (None, "") else "Untitled"

    @property
    def label(self) -> str:
        return str(self.obj.definition.get("label") or self.obj.api_name)

    @property
    def tabs(self) -> list[tuple[str, str]]:
        return [(tab.name, tab.label) for tab in self.layout.tabs] + [(HISTORY_TAB, "History")]

    def moment(self, name: str) -> dt.datetime:
        """A system time of the record (created_at, updated_at) as a datetime."""
        return dt.datetime.fromisoformat(str(self.record[name]))

    def shown_tabs(self) -> list[ShownTab]:
        """Every layout tab as this reader sees it on this record."""
        access = self.current.access
        return [
            shown_tab(tab, self.obj, access, self.can_edit, self.hidden, self.locked)
            for tab in self.layout.tabs
        ]

    @property
    def url(self) -> str:
        return field_values.record_url(self.obj.api_name, self.id)

    def show(self, field: CompiledField, *value: Any) -> Any:
        """A field's value as HTML: the record's own, or the one given (a related row's)."""
        shown = value[0] if value else self.record.get(field.api_name)
        return field_values.show(self.current.schema, field, shown)

    def numeric(self, field: CompiledField) -> bool:
        return field_values.is_numeric(field)

    def edit(
        self, shown: ShownItem, errors: Sequence[str] = (), sent: Mapping[str, Any] | None = None
    ) -> None:
        """Open ``shown``'s editor in place: the record forms' control for the field,
        holding what the user ``sent`` for it (by field, after a refused save: with the
        ``errors``), else the record's value (a lookup's id, not its expansion). Built
        while the screen's connection is open: a lookup's records are read for it."""
        field = shown.field
        assert field is not None
        name = shown.item.name
        if sent is not None and name in sent:
            value = sent[name]
        else:
            value = self.record.get(name)
            if field.type.references_records and isinstance(value, dict):
                value = value.get("id")
        self.editing = name
        self.editor = control_for(
            self.current,
            self.obj,
            field,
            value,
            conditions=FieldConditions(required=shown.item.required),
            errors=errors,
            prefix="inline",
        )

    def changes(self, entry: HistoryEntry) -> list[tuple[CompiledField, Any, Any]]:
        """An update's changed fields as (field, old, new), lookups by the related
        record's name (``{"id"}`` alone for one the reader may not read)."""
        if entry.action != "updated" or self.history is None:
            return []
        related = self.history.related
        found = []
        for name, (old, new) in entry.changes.items():
            field = self.obj.find(name)
            if field is None:
                continue
            if field.type.references_records:
                old = related.get(str(old), {"id": old}) if old else old
                new = related.get(str(new), {"id": new}) if new else new
            found.append((field, old, new))
        return found

    def stages(self) -> list[dict[str, Any]]:
        """The path's stages: value, label, and whether done (before the current one) or
        current. Inactive values are left out, unless the record has one."""
        path = self.layout.path
        if path is None:
            return []
        current = self.record.get(path.api_name)
        stages = []
        for item in path.definition.get("values") or ():
            entry = {"value": item, "label": item} if isinstance(item, str) else dict(item)
            entry.setdefault("label", entry["value"])
            if entry.get("active", True) is False and entry["value"] != current:
                continue
            stages.append({"value": entry["value"], "label": entry["label"]})
        position = next((i for i, s in enumerate(stages) if s["value"] == current), -1)
        for index, stage in enumerate(stages):
            stage["current"] = index == position
            stage["done"] = index < position
        return stages


def build_page(
    current: Screen,
    obj: ObjectSchema,
    record_id: str,
    tab_name: str | None,
    *,
    layout: Layout | None = None,
    **state: Any,
) -> RecordPage:
    """Read what the page shows for the reader: the record (a 404 if they may not read
    it), what they may do with it, and the selected tab's contents; in the object's
    layout, or in ``layout`` (the layout editor's preview of an unsaved one)."""
    chosen = layout if layout is not None else layout_of(current.schema, obj)
    layout = readable_layout(chosen, obj, current.access)
    record, version = read_record(current, obj, record_id, shown_fields(layout))
    key = uuid.UUID(str(record["id"]))
    access, connection = current.access, current.connection
    managed = bool(obj.definition.get("managed_by"))
    can_edit = access.permits(connection, obj, key, "edit")
    can_delete = not managed and access.permits(connection, obj, key, "delete")
    names = [tab.name for tab in layout.tabs] + [HISTORY_TAB]
    selected = tab_name if tab_name in names else names[0]
    hidden, locked = conditions(RuleContext(connection, current.actor, current.schema), obj, record)
    path = layout.path
    path_editable = (
        path is not None
        and path.api_name not in locked
        and editable_in_place(obj, access, _path_item(layout), can_edit)
    )
    page = RecordPage(
        current,
        obj,
        record,
        version,
        layout,
        selected,
        None,
        can_edit,
        can_delete,
        path_editable,
        hidden,
        locked,
        **state,
    )
    people = [record.get("owner_id"), record.get("created_by"), record.get("updated_by")]
    if selected == HISTORY_TAB:
        page.history = read_history(current, obj, page.id)
        page.runs = read_runs(current, obj, page.id)
        people += [entry.actor_id for entry in page.history.entries]
    else:
        tab = next(tab for tab in layout.tabs if tab.name == selected)
        page.tab = shown_tab(tab, obj, access, can_edit, hidden, locked)
        page.related = [related_rows(current, each, page.id) for each in tab.related_lists]
    page.users = user_names(current, people)
    return page


def _path_item(layout: Layout) -> LayoutItem:
    """The path field as a layout item (its own options where a section names it)."""
    path = layout.path
    assert path is not None
    for tab in layout.tabs:
        for section in tab.sections:
            for item in section.items:
                if item.field is path:
                    return item
    return LayoutItem(path.api_name, field_label(path), path)


def wants_fragment(kind: str) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == kind


def render_page(page: RecordPage, status: int = 200) -> ResponseReturnValue:
    if wants_fragment("tab"):
        return render_template("record/tab_panel.html", page=page), status
    return render_template("record/page.html", page=page), status


def show(api_name: str, record_id: str) -> ResponseReturnValue:
    with screen() as current:
        obj = readable_object(current, api_name)
        page = build_page(current, obj, record_id, request.args.get("tab"))
        remember_view(current.connection, current.actor, obj, uuid.UUID(page.id))
    return render_page(page)
