"""The layout as one reader sees it on one record: what field-level security hides is
absent (fields, highlights, the path, related lists through a hidden lookup or of an
object they may not read, columns), a field whose ``visible_when`` is false here is not
shown, and each field knows whether the reader may edit it in place.

The page asks which lookups to expand (by the target's name field) and which fields to
read from this reader-specific view, so the record is read once with exactly what shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from trellis.access.gate import Access
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.formulas import PathTooDeep, UnknownPath, resolve_path
from trellis.metadata.layouts import Layout, LayoutItem, RelatedList, Section, Tab
from trellis.records.rules import RuleContext
from trellis.records.users import MANAGED_FIELDS
from trellis.rule_engine import FormulaError


@dataclasses.dataclass(frozen=True)
class ShownItem:
    item: LayoutItem
    editable: bool = False

    @property
    def field(self) -> CompiledField | None:
        return self.item.field


@dataclasses.dataclass(frozen=True)
class ShownSection:
    section: Section
    items: tuple[ShownItem, ...]


@dataclasses.dataclass(frozen=True)
class ShownTab:
    tab: Tab
    sections: tuple[ShownSection, ...]
    related_lists: tuple[RelatedList, ...]


def readable_layout(layout: Layout, obj: ObjectSchema, access: Access) -> Layout:
    """``layout`` without what field-level security and object rights keep from the
    reader (sections stay, possibly empty: the page leaves empty ones out)."""
    hidden = access.unreadable_fields(obj)

    def readable(field: CompiledField | None) -> bool:
        return field is None or field.api_name not in hidden

    tabs = tuple(
        dataclasses.replace(
            tab,
            sections=tuple(
                dataclasses.replace(
                    section, items=tuple(item for item in section.items if readable(item.field))
                )
                for section in tab.sections
            ),
            related_lists=tuple(
                _readable_list(related, access)
                for related in tab.related_lists
                if access.rights.has(related.object.api_name, "read")
                and related.lookup.api_name not in access.unreadable_fields(related.object)
            ),
        )
        for tab in layout.tabs
    )
    return dataclasses.replace(
        layout,
        tabs=tabs,
        highlights=tuple(field for field in layout.highlights if readable(field)),
        path=layout.path if readable(layout.path) else None,
    )


def _readable_list(related: RelatedList, access: Access) -> RelatedList:
    hidden = access.unreadable_fields(related.object)
    sort_key = related.sort.lstrip("-")
    return dataclasses.replace(
        related,
        columns=tuple(field for field in related.columns if field.api_name not in hidden),
        sort=related.sort if sort_key not in hidden else "-created_at",
    )


def shown_fields(layout: Layout) -> list[CompiledField]:
    """Every field the page may show, once each, in layout order."""
    found: dict[str, CompiledField] = {}
    for field in layout.highlights:
        found.setdefault(field.api_name, field)
    if layout.path is not None:
        found.setdefault(layout.path.api_name, layout.path)
    for tab in layout.tabs:
        for section in tab.sections:
            for item in section.items:
                if item.field is not None:
                    found.setdefault(item.field.api_name, item.field)
    return list(found.values())


def projection_paths(
    schema: TenantSchema, obj: ObjectSchema, access: Access, fields: list[CompiledField]
) -> list[str]:
    """``fields=`` paths for a read of the record: its name, each shown field and each
    lookup expanded by its target's name field, where the reader may read them (a path
    they may not read is left out: the lookup then shows by id)."""
    paths = [obj.name_field] if obj.find(obj.name_field) is not None else []
    for field in fields:
        paths.append(field.api_name)
        target = schema.objects.get(str(field.definition.get("target", "")).lower())
        if field.type.references_records and target is not None:
            paths.append(f"{field.api_name}.{target.name_field}")
    readable = []
    for path in dict.fromkeys(paths):
        try:
            steps = resolve_path(schema, obj, path)
        except (UnknownPath, PathTooDeep):
            continue
        if access.can_read_path(steps):
            readable.append(path)
    return readable


def conditions(
    context: RuleContext, obj: ObjectSchema, record: Mapping[str, Any]
) -> tuple[frozenset[str], frozenset[str]]:
    """The fields hidden (``visible_when`` not true) and read-only (``read_only_when``
    true) on this record, as far as the reader's view of it tells. The records service
    enforces both on save whatever the page shows; a condition that cannot be evaluated
    here hides nothing and locks nothing."""
    conditional = obj.writes.conditional
    if not conditional:
        return frozenset(), frozenset()
    data = {
        name: value["id"] if isinstance(value, dict) and "id" in value else value
        for name, value in record.items()
        if name in obj.fields
    }
    system = {name: record.get(name) for name in ("id", "owner_id", "version")}
    view = context.view(obj, data, system)
    hidden: set[str] = set()
    locked: set[str] = set()
    for field in conditional:
        for key, found in (("visible_when", hidden), ("read_only_when", locked)):
            source = field.definition.get(key)
            if not source:
                continue
            try:
                value = context.evaluate(obj, source, view, expected_type="checkbox")
            except FormulaError:
                continue
            if (key == "visible_when" and value is not True) or (
                key == "read_only_when" and value is True
            ):
                found.add(field.api_name)
    return frozenset(hidden), frozenset(locked)


def editable_in_place(
    obj: ObjectSchema, access: Access, item: LayoutItem, record_editable: bool
) -> bool:
    """Whether the page offers to edit this item where it is shown."""
    field = item.field
    if field is None or not record_editable or item.read_only:
        return False
    if field.type.computed or field.type.sequence or not field.type.stored:
        return False
    if field.definition.get("read_only"):
        return False
    if obj.definition.get("managed_by") and field.api_name in MANAGED_FIELDS:
        return False
    return access.can_edit_field(obj, field.api_name)


def shown_tab(
    tab: Tab,
    obj: ObjectSchema,
    access: Access,
    record_editable: bool,
    hidden: frozenset[str],
    locked: frozenset[str],
) -> ShownTab:
    """One tab for the page: conditionally hidden fields out, empty sections out."""
    sections = []
    for section in tab.sections:
        items = tuple(
            ShownItem(
                item,
                editable_in_place(obj, access, item, record_editable) and item.name not in locked,
            )
            for item in section.items
            if item.name not in hidden
        )
        if items:
            sections.append(ShownSection(section, items))
    return ShownTab(tab, tuple(sections), tab.related_lists)
