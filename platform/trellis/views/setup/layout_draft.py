"""A layout as the layout editor holds it: the JSON document an object stores under
``layout`` (trellis.metadata.layouts), the one the editor starts from (the stored one,
or the generated one written out) and what a save refused says, placed on the tab,
section, field or related list it is about.

The editor changes this document and posts it whole; the metadata service checks it as
it checks any object change (JSON shape, trellis.metadata.layout_checks and the related
list checks), so the editor holds no rule of its own about what a layout may say.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from typing import Any

import jsonschema

from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.documents import object_meta_schema
from trellis.metadata.layouts import Layout, default_layout


@dataclasses.dataclass(frozen=True)
class Problem:
    """One message of a refused save, where in the draft it is about (indices into the
    draft's tabs, a tab's sections or related lists and a section's fields; None where
    the message is about something larger) and that place in words."""

    message: str
    where: str
    tab: int | None = None
    section: int | None = None
    field: int | None = None
    related: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def generated_json(layout: Layout) -> dict[str, Any]:
    """A generated layout as the document that would store it."""
    document: dict[str, Any] = {
        "tabs": [
            {
                "name": tab.name,
                "label": tab.label,
                "sections": [
                    {
                        "label": section.label,
                        "columns": section.columns,
                        "collapsible": section.collapsible,
                        "collapsed": section.collapsed,
                        "fields": [item.name for item in section.items],
                    }
                    for section in tab.sections
                ],
                "related_lists": [
                    {
                        "object": related.object.api_name,
                        "lookup": related.lookup.api_name,
                        "label": related.label,
                        "columns": [column.api_name for column in related.columns],
                        "sort": related.sort,
                        "limit": related.limit,
                    }
                    for related in tab.related_lists
                ],
            }
            for tab in layout.tabs
        ],
        "highlights": [field.api_name for field in layout.highlights],
    }
    if layout.path is not None:
        document["path"] = layout.path.api_name
    return document


def starting_draft(schema: TenantSchema, obj: ObjectSchema) -> dict[str, Any]:
    """What the editor opens with: the object's own layout, else the generated one."""
    stored = obj.definition.get("layout")
    if isinstance(stored, dict):
        return copy.deepcopy(stored)
    return generated_json(default_layout(schema, obj))


def parse_draft(text: str) -> tuple[Any, str | None]:
    """The posted draft, or None and what is wrong with it as JSON."""
    try:
        draft = json.loads(text)
    except ValueError as error:
        return None, f"The layout is not valid JSON: {error}."
    if not isinstance(draft, dict):
        return None, "The layout is a JSON object with its tabs."
    return draft, None


def with_draft(obj: ObjectSchema, draft: dict[str, Any]) -> dict[str, Any]:
    """The object's definition with ``draft`` as its layout."""
    return {**obj.definition, "layout": draft}


def problems(fields: dict[str, list[str]], draft: Any, message: str) -> list[Problem]:
    """A refused save's messages, each placed in the draft; the error's own message when
    it names no place."""
    found = [
        Problem(text, *_place(key, draft)) for key, messages in fields.items() for text in messages
    ]
    return found or [Problem(message, "The layout")]


def _place(key: str, draft: Any) -> tuple[str, int | None, int | None, int | None, int | None]:
    """A message's key (``layout.tabs.details.sections.0.fields.2``, with a tab named or
    numbered) as words and indices into the draft."""
    parts = key.split(".")
    if parts[:1] != ["layout"] or not isinstance(draft, dict):
        return _words_of(key), None, None, None, None
    parts = parts[1:]
    if parts[:1] == ["highlights"]:
        return "Highlights", None, None, None, None
    if parts[:1] == ["path"]:
        return "Path", None, None, None, None
    found = draft.get("tabs")
    tabs: list[Any] = found if isinstance(found, list) else []
    if parts[:1] != ["tabs"] or len(parts) < 2:
        return "The layout", None, None, None, None
    tab_index = _tab_index(tabs, parts[1])
    if tab_index is None:
        return "The layout", None, None, None, None
    tab = tabs[tab_index]
    words = [f"Tab “{_label(tab, 'label', f'tab {tab_index + 1}')}”"]
    rest = parts[2:]
    section = field = related = None
    if rest[:1] == ["sections"] and len(rest) > 1 and rest[1].isdigit():
        section = int(rest[1])
        entry = _nth(tab.get("sections"), section)
        words.append(f"section “{_label(entry, 'label', f'section {section + 1}')}”")
        if rest[2:3] == ["fields"] and len(rest) > 3 and rest[3].isdigit():
            field = int(rest[3])
            item = _nth(entry.get("fields") if isinstance(entry, dict) else None, field)
            name = item.get("field") if isinstance(item, dict) else item
            words.append(f"field {name}" if isinstance(name, str) else f"field {field + 1}")
    elif rest[:1] == ["related_lists"] and len(rest) > 1 and rest[1].isdigit():
        related = int(rest[1])
        entry = _nth(tab.get("related_lists"), related)
        words.append(f"related list “{_label(entry, 'label', _label(entry, 'object', '?'))}”")
        if len(rest) > 2:
            words.append(rest[2].replace("_", " "))
    elif rest:
        words.append(rest[0].replace("_", " "))
    return ", ".join(words), tab_index, section, field, related


def _tab_index(tabs: list[Any], key: str) -> int | None:
    if key.isdigit():
        return int(key) if int(key) < len(tabs) else None
    for index, tab in enumerate(tabs):
        if isinstance(tab, dict) and tab.get("name") == key:
            return index
    return None


def _nth(items: Any, index: int) -> Any:
    return items[index] if isinstance(items, list) and index < len(items) else None


def _label(entry: Any, key: str, fallback: str) -> str:
    value = entry.get(key) if isinstance(entry, dict) else None
    return value if isinstance(value, str) and value else fallback


def _words_of(key: str) -> str:
    return key.replace("_", " ").replace(".", " › ") if key else "The layout"


def editable_shape(draft: Any) -> bool:
    """Whether ``draft`` has the shape of a layout (what the editor script can work on;
    otherwise only its JSON can be edited)."""
    schema = object_meta_schema()
    layout = {**schema["$defs"]["layout"], "$defs": schema["$defs"]}
    return bool(jsonschema.Draft202012Validator(layout).is_valid(draft))


def shown_json(draft: Any) -> str:
    """The draft as the JSON box shows it."""
    return json.dumps(draft, indent=2, ensure_ascii=False)


def stored_mark(obj: ObjectSchema) -> str:
    """A mark of the layout the object stores now (or of its having none): the editor
    sends back the one it started from, so a save over someone else's is caught."""
    stored = json.dumps(obj.definition.get("layout"), sort_keys=True)
    return hashlib.sha256(stored.encode()).hexdigest()[:16]
