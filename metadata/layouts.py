"""Record page layouts: an object's ``layout`` (tabs of sections and related lists, the
highlights under the record's name, the path) as the page uses it, and the layout
generated for an object that has none.

A layout is part of its object's definition (validated by trellis.metadata.layout_checks
when the object is saved), so it is versioned, rolled back and carried in packages with
the fields it names. Resolving it against the current metadata skips what no longer
resolves (a child object deleted since), so a page never fails for a stale entry.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.layout_checks import SYSTEM_ITEMS, can_be_path

DETAILS_TAB = "details"
DEFAULT_RELATED_SORT = "-created_at"
DEFAULT_RELATED_ROWS = 5
#: How many fields the generated layout shows under the name, and in a related list.
DEFAULT_HIGHLIGHTS = 4
DEFAULT_COLUMNS = 4
#: Names of the picklist the generated layout shows as a path, in order of preference.
PATH_NAMES = ("stage", "status")
#: Types that make poor highlights or columns: long, multi-line values.
LONG_TYPES = frozenset({"long_text", "rich_text"})
#: Which (formula) types a generated related list shows first: lower comes first.
COLUMN_PREFERENCE = {
    "email": 0,
    "phone": 0,
    "currency": 1,
    "date": 1,
    "datetime": 2,
    "picklist": 2,
    "number": 3,
    "percent": 3,
    "lookup": 4,
    "checkbox": 5,
}


@dataclasses.dataclass(frozen=True)
class LayoutItem:
    """One entry of a section: a field, or a system column (``owner_id``, ``created_at``,
    ``updated_at``: ``field`` is None then)."""

    name: str
    label: str
    field: CompiledField | None = None
    read_only: bool = False
    required: bool = False


@dataclasses.dataclass(frozen=True)
class Section:
    label: str
    items: tuple[LayoutItem, ...]
    columns: int = 2
    collapsible: bool = True
    collapsed: bool = False


@dataclasses.dataclass(frozen=True)
class RelatedList:
    """Records of ``object`` whose ``lookup`` points at the page's record."""

    object: ObjectSchema
    lookup: CompiledField
    label: str
    columns: tuple[CompiledField, ...]
    sort: str = DEFAULT_RELATED_SORT
    limit: int = DEFAULT_RELATED_ROWS


@dataclasses.dataclass(frozen=True)
class Tab:
    name: str
    label: str
    sections: tuple[Section, ...] = ()
    related_lists: tuple[RelatedList, ...] = ()


@dataclasses.dataclass(frozen=True)
class Layout:
    tabs: tuple[Tab, ...]
    highlights: tuple[CompiledField, ...] = ()
    path: CompiledField | None = None
    #: Whether an administrator defined it (else it was generated from the fields).
    defined: bool = False


def field_label(field: CompiledField) -> str:
    return str(field.definition.get("label") or field.api_name)


def plural(obj: ObjectSchema) -> str:
    return str(obj.definition.get("plural_label") or obj.definition.get("label") or obj.api_name)


def layout_of(schema: TenantSchema, obj: ObjectSchema) -> Layout:
    """The object's layout as the page shows it: its own, or the generated one."""
    stored = obj.definition.get("layout")
    if not isinstance(stored, dict):
        return default_layout(schema, obj)
    tabs = tuple(_tab(schema, obj, tab) for tab in stored.get("tabs", []))
    path = obj.find(stored["path"]) if stored.get("path") else None
    return Layout(
        tabs=tabs,
        highlights=tuple(
            field for field in (obj.find(name) for name in stored.get("highlights", [])) if field
        ),
        path=path if path is not None and can_be_path(path.type, path.definition) else None,
        defined=True,
    )


def _tab(schema: TenantSchema, obj: ObjectSchema, tab: dict[str, Any]) -> Tab:
    sections = []
    for section in tab.get("sections", []):
        items = tuple(
            item for item in (_item(obj, entry) for entry in section["fields"]) if item is not None
        )
        sections.append(
            Section(
                label=section["label"],
                items=items,
                columns=int(section.get("columns", 2)),
                collapsible=bool(section.get("collapsible", True)),
                collapsed=bool(section.get("collapsed", False)),
            )
        )
    related = (_related_list(schema, obj, entry) for entry in tab.get("related_lists", []))
    return Tab(
        tab["name"],
        tab["label"],
        tuple(sections),
        tuple(each for each in related if each is not None),
    )


def _item(obj: ObjectSchema, entry: str | dict[str, Any]) -> LayoutItem | None:
    name = entry if isinstance(entry, str) else entry["field"]
    options = {} if isinstance(entry, str) else entry
    read_only, required = bool(options.get("read_only")), bool(options.get("required"))
    if name in SYSTEM_ITEMS:
        return LayoutItem(name, SYSTEM_ITEMS[name], read_only=True)
    field = obj.find(name)
    if field is None:
        return None
    return LayoutItem(field.api_name, field_label(field), field, read_only, required)


def _related_list(
    schema: TenantSchema, obj: ObjectSchema, entry: dict[str, Any]
) -> RelatedList | None:
    child = schema.objects.get(str(entry["object"]).lower())
    lookup = child.find(entry["lookup"]) if child is not None else None
    if child is None or lookup is None or not points_at(lookup, obj):
        return None
    named = (child.find(name) for name in entry.get("columns", []))
    columns = tuple(field for field in named if field is not None) or default_columns(child, lookup)
    return RelatedList(
        child,
        lookup,
        entry.get("label") or plural(child),
        columns,
        entry.get("sort", DEFAULT_RELATED_SORT),
        int(entry.get("limit", DEFAULT_RELATED_ROWS)),
    )


def points_at(lookup: CompiledField, obj: ObjectSchema) -> bool:
    return (
        lookup.type.references_records
        and str(lookup.definition.get("target", "")).lower() == obj.api_name.lower()
    )


def default_layout(schema: TenantSchema, obj: ObjectSchema) -> Layout:
    """The generated layout: a Details tab with every field in definition order (two
    columns on a laptop), system information in a collapsed section of its own and a
    related list for every lookup to this object; the path on the first picklist called
    Stage or Status; the first few short fields other than the name as highlights."""
    fields = list(obj.fields.values())
    label = str(obj.definition.get("label") or obj.api_name)
    sections = [
        Section(
            f"{label} information",
            tuple(LayoutItem(field.api_name, field_label(field), field) for field in fields),
        ),
        Section(
            "System information",
            tuple(LayoutItem(name, text, read_only=True) for name, text in SYSTEM_ITEMS.items()),
            collapsed=True,
        ),
    ]
    lookups = schema.referencing_lookups(obj.api_name)
    sources = [source.api_name for source, _ in lookups]
    related = tuple(
        RelatedList(
            source,
            lookup,
            related_label(source, lookup, alone=sources.count(source.api_name) == 1),
            default_columns(source, lookup),
        )
        for source, lookup in sorted(lookups, key=lambda pair: plural(pair[0]).lower())
    )
    path = next(
        (
            field
            for wanted in PATH_NAMES
            for field in fields
            if can_be_path(field.type, field.definition)
            and wanted in {field.api_name.lower(), field_label(field).lower()}
        ),
        None,
    )
    highlights = tuple(
        field
        for field in fields
        if field.api_name != obj.name_field
        and field is not path
        and field.type.name not in LONG_TYPES
    )[:DEFAULT_HIGHLIGHTS]
    return Layout((Tab(DETAILS_TAB, "Details", tuple(sections), related),), highlights, path)


def _column_rank(field: CompiledField) -> int:
    kind = field.type.formula_type(field.definition)
    return COLUMN_PREFERENCE.get(field.type.name, COLUMN_PREFERENCE.get(kind, 9))


def related_label(child: ObjectSchema, lookup: CompiledField, *, alone: bool) -> str:
    """A generated related list's title: the lookup's relationship name in words
    (``ChildAccounts``: "Child accounts"), else the child's plural label, with the
    lookup's label when the child has more than one lookup to the page's object."""
    relationship = str(lookup.definition.get("relationship_name") or "")
    if relationship:
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_", " ", relationship).split()
        return " ".join([words[0], *(word.lower() for word in words[1:])])
    return plural(child) if alone else f"{plural(child)} ({field_label(lookup)})"


def default_columns(child: ObjectSchema, lookup: CompiledField) -> tuple[CompiledField, ...]:
    """A related list's columns when none are named: the child's name field, then the
    short fields that tell its records apart best (contact details, amounts and dates,
    then choices, then the rest, each in definition order), not the lookup to the
    parent."""
    name = child.find(child.name_field)
    rest = sorted(
        (
            field
            for field in child.fields.values()
            if field is not name and field is not lookup and field.type.name not in LONG_TYPES
        ),
        key=_column_rank,
    )
    return tuple(([name] if name is not None else []) + rest)[:DEFAULT_COLUMNS]


def without_field(definition: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    """The definition with ``field`` (one of its fields) deleted, and taken out of the
    layout's sections, highlights and path: a deleted field leaves its object's layout,
    as it leaves lists and forms. (A layout of another object that lists it in a related
    list must be changed first, as a formula reading it must.)"""
    fields = [{**each, "deleted": True} if each is field else each for each in definition["fields"]]
    changed = {**definition, "fields": fields}
    layout = definition.get("layout")
    if isinstance(layout, dict):
        changed["layout"] = _layout_without(layout, field["api_name"].lower())
    return changed


def _layout_without(layout: dict[str, Any], lowered: str) -> dict[str, Any]:
    def keep(entry: str | dict[str, Any]) -> bool:
        return (entry if isinstance(entry, str) else entry["field"]).lower() != lowered

    tabs = [
        {
            **tab,
            "sections": [
                {**section, "fields": [e for e in section["fields"] if keep(e)]}
                for section in tab.get("sections", [])
            ],
        }
        if "sections" in tab
        else tab
        for tab in layout.get("tabs", [])
    ]
    changed = {**layout, "tabs": tabs}
    if "highlights" in layout:
        changed["highlights"] = [each for each in layout["highlights"] if keep(each)]
    if str(layout.get("path", "")).lower() == lowered:
        del changed["path"]
    return changed
