"""List views as documents: what one list of an object shows, checked as the list API
checks a request.

A view has an ``api_name`` and a ``label``, its ``columns`` (field paths as ``fields=``
names them, ``Name`` or ``Account.Industry``, in order, each with an optional width in
pixels), its ``filters`` (a field, one of the operators of the field's type and a value:
the list API's ``Field__operator=value``), its ``sort`` (the list API's ``sort=``) and
its visibility: ``shared`` (everyone who may read the object sees it) or ``private``
(its owner's), and optionally its ``board``: the same records as a kanban board, one
column per value of a picklist (``group_by``), each card showing ``card_fields`` and
each column the sum of ``summary_field`` (a number field, or none). A board is a view,
so its filters, sharing, packages and API are the list view's own. Each part is checked
by the list query itself (:mod:`trellis.records.query`), so a view accepts exactly what
the API accepts, with field-level security: a field its author may not read is as
unknown as one that does not exist. A filter's value may be ``$User.Id`` (the viewer) on
the owner and other user columns.

The checks live in :mod:`trellis.records.list_view_checks`. Every object also has two
generated views, ``all`` ("All <plural>": the name field and
the first few others, newest first) and ``mine`` ("My <plural>": the records the
viewer owns). A shared view of the same name replaces either.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from typing import Any

from trellis.access.gate import Access
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.user_paths import user_object

API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
MAX_LABEL, MAX_COLUMNS, MAX_FILTERS, MAX_SORT_KEYS, MAX_VALUE = 80, 50, 20, 3, 1000
MIN_WIDTH, MAX_WIDTH = 60, 800
KEYS = ("api_name", "label", "visibility", "columns", "filters", "sort", "board")
BOARD_KEYS = ("group_by", "card_fields", "summary_field")
MAX_CARD_FIELDS = 8
VISIBILITIES = ("shared", "private")
CURRENT_USER = "$User.Id"
# The user id a ``$User.Id`` filter is checked with, when the author has none.
NOBODY = uuid.UUID(int=0)
ALL_VIEW, MY_VIEW = "all", "mine"
GENERATED = (ALL_VIEW, MY_VIEW)
DEFAULT_SORT = "-created_at"
# The generated "All" view shows the name field and this many more.
DEFAULT_EXTRA_COLUMNS = 5
Errors = dict[str, list[str]]  # messages by the place in the view they are about
# Types whose values are paragraphs, not list cells: left out of the generated columns.
UNLISTED_TYPES = frozenset({"long_text", "rich_text"})


@dataclasses.dataclass(frozen=True)
class ViewColumn:
    field: str
    width: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "width": self.width}


@dataclasses.dataclass(frozen=True)
class ViewFilter:
    field: str
    operator: str
    value: str

    @property
    def parameter(self) -> str:
        """The list API's query parameter for this filter (``Amount__gte``)."""
        return f"{self.field}__{self.operator}"

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "operator": self.operator, "value": self.value}


@dataclasses.dataclass(frozen=True)
class Board:
    """A view shown as a kanban board: a column per value of ``group_by``."""

    group_by: str
    card_fields: tuple[str, ...] = ()
    summary_field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "group_by": self.group_by,
            "card_fields": list(self.card_fields),
            "summary_field": self.summary_field,
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any] | None) -> Board | None:
        if not stored:
            return None
        return cls(
            stored["group_by"], tuple(stored.get("card_fields", ())), stored.get("summary_field")
        )


@dataclasses.dataclass(frozen=True)
class ListView:
    api_name: str
    label: str
    columns: tuple[ViewColumn, ...]
    filters: tuple[ViewFilter, ...]
    sort: str
    shared: bool
    #: None for a generated view, which has no row of its own.
    id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    updated_at: dt.datetime | None = None
    board: Board | None = None

    @property
    def generated(self) -> bool:
        return self.id is None

    @property
    def visibility(self) -> str:
        return "shared" if self.shared else "private"

    def definition(self) -> dict[str, Any]:
        """What the ``list_views`` row stores beside its name, label and owner (a view
        without a board stores no ``board`` key, as views saved before boards)."""
        stored: dict[str, Any] = {
            "columns": [column.to_json() for column in self.columns],
            "filters": [each.to_json() for each in self.filters],
            "sort": self.sort,
        }
        if self.board is not None:
            stored["board"] = self.board.to_json()
        return stored

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id) if self.id else None,
            "api_name": self.api_name,
            "label": self.label,
            "visibility": self.visibility,
            "generated": self.generated,
            "owner_id": str(self.owner_id) if self.owner_id else None,
            **self.definition(),
            "board": self.board.to_json() if self.board else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def filter_arguments(
    filters: tuple[ViewFilter, ...] | list[ViewFilter], user_id: uuid.UUID | None
) -> dict[str, list[str]]:
    """Filters as list API parameters, ``$User.Id`` as the viewer's id."""
    arguments: dict[str, list[str]] = {}
    for each in filters:
        value = str(user_id or NOBODY) if each.value == CURRENT_USER else each.value
        arguments.setdefault(each.parameter, []).append(value)
    return arguments


def plural(obj: ObjectSchema) -> str:
    return str(obj.definition.get("plural_label") or obj.api_name)


def default_columns(obj: ObjectSchema, access: Access) -> tuple[ViewColumn, ...]:
    """The name field and the first few other fields the reader may read."""
    hidden = access.unreadable_fields(obj)
    name = obj.name_field if obj.name_field in obj.fields and obj.name_field not in hidden else None
    names = [name] if name else []
    for field_name, field in obj.fields.items():
        if len(names) > DEFAULT_EXTRA_COLUMNS:
            break
        listed = field.type.name not in UNLISTED_TYPES
        if listed and field_name != name and field_name not in hidden:
            names.append(field_name)
    return tuple(ViewColumn(each) for each in names or ["created_at"])


def generated_views(obj: ObjectSchema, access: Access) -> list[ListView]:
    """ "All <plural>" and, on objects whose records have owners, "My <plural>"."""
    columns = default_columns(obj, access)
    views = [ListView(ALL_VIEW, f"All {plural(obj)}", columns, (), DEFAULT_SORT, True)]
    if obj is not user_object(access.schema):
        mine = (ViewFilter("owner_id", "eq", CURRENT_USER),)
        views.append(ListView(MY_VIEW, f"My {plural(obj)}", columns, mine, DEFAULT_SORT, True))
    return views
