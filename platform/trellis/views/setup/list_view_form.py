"""The list-view editor's form: a view's label, API name and visibility, its columns
(ticked and ordered), its filters (a field, one of the operators the list query takes for
it, a value), its sort and its board (the picklist it groups by, the card fields, the
number its columns add up), read from a stored view or from the posted form, and turned
into the body the list views service takes (trellis.records.list_view_store), as the
API's ``/api/v1/objects/<Object>/list-views`` takes it.

The form works without JavaScript: the column move buttons, "Add a filter" and a filter's
"Remove" post it back and it is shown again as changed, unsaved.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from werkzeug.datastructures import MultiDict

from trellis.metadata.compiled import CompiledField, ObjectSchema
from trellis.records.board_checks import board_fields
from trellis.records.list_views import (
    DEFAULT_SORT,
    MAX_FILTERS,
    Board,
    ListView,
    default_columns,
)
from trellis.views.list_actions import chosen_columns
from trellis.views.list_columns import ChooserItem, chooser_items
from trellis.views.list_filters import (
    NOT_EMPTY,
    WORDS,
    filter_row,
    filterable_fields,
    panel_filters,
    sort_choice,
)
from trellis.views.shell import Screen

Errors = dict[str, list[str]]


@dataclasses.dataclass(frozen=True)
class FilterLine:
    index: int
    field: str
    operator: str
    value: str

    @property
    def counts(self) -> bool:
        """Whether the line is a filter (panel_filters takes it), not a blank one."""
        needs_value = self.operator not in {"isnull", NOT_EMPTY}
        return bool(self.field and self.operator and (self.value or not needs_value))


@dataclasses.dataclass
class ViewForm:
    creating: bool
    label: str
    api_name: str
    visibility: str
    columns: list[ChooserItem]
    filters: list[FilterLine]
    sort_field: str
    sort_dir: str
    #: (api name, label, operators) of each field a filter may name.
    filter_fields: list[tuple[str, str, list[str]]]
    operators: list[tuple[str, str]]
    sort_fields: list[tuple[str, str]]
    #: The board part: the picklist it groups by ("" for no board), its card fields and
    #: the number field its columns add up ("" for none).
    board_group_by: str = ""
    board_cards: tuple[str, ...] = ()
    board_summary: str = ""
    #: (api name, label) of the fields a board may group by, show on cards, add up.
    group_fields: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    card_choices: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    summary_fields: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    errors: Errors = dataclasses.field(default_factory=dict)

    def error(self, *keys: str) -> list[str]:
        return [message for key in keys for message in self.errors.get(key, [])]

    def filter_errors(self, line: FilterLine) -> list[str]:
        return self.errors.get(f"line.{line.index}", [])


def _choices(current: Screen, obj: ObjectSchema) -> dict[str, Any]:
    schema, access = current.schema, current.access
    every = filterable_fields(obj, schema, access)
    fields = []
    for name, label, _ in every:
        row = filter_row(obj, schema, access, 0, name, None)
        if row is not None:
            fields.append((name, label, [value for value, _ in row.operators if value]))
    sortable = [
        (name, label) for name, label, sorts in filterable_fields(obj, schema, access) if sorts
    ]
    groups, sums = board_fields(obj, access)
    hidden = access.unreadable_fields(obj)
    return {
        "filter_fields": fields,
        "operators": [*WORDS.items()],
        "sort_fields": sortable,
        "group_fields": [(field.api_name, _label(field)) for field in groups],
        "card_choices": [
            (name, _label(field))
            for name, field in obj.fields.items()
            if name not in hidden and name != obj.name_field
        ],
        "summary_fields": [(field.api_name, _label(field)) for field in sums],
    }


def _label(field: CompiledField) -> str:
    return str(field.definition.get("label") or field.api_name)


def blank_lines(lines: list[FilterLine], wanted: int = 1) -> list[FilterLine]:
    """``lines`` and ``wanted`` empty ones to fill in (within the most a view may have)."""
    start = max((line.index for line in lines), default=-1) + 1
    room = max(0, MAX_FILTERS - len(lines))
    return lines + [FilterLine(start + n, "", "", "") for n in range(min(wanted, room))]


def form_of_view(current: Screen, obj: ObjectSchema, view: ListView | None) -> ViewForm:
    """The form for a stored (or generated) view, or for a new one (None)."""
    # A new view starts from the columns the generated "All" view shows.
    chosen = view.columns if view else default_columns(obj, current.access)
    columns = chooser_items(obj, current.schema, current.access, chosen)
    lines = []
    for index, each in enumerate(view.filters if view else ()):
        operator = each.operator
        if operator == "isnull":
            operator = NOT_EMPTY if each.value == "false" else "isnull"
        value = "" if each.operator == "isnull" else each.value
        lines.append(FilterLine(index, each.field, operator, value))
    sort = (view.sort if view else DEFAULT_SORT).split(",")[0]
    return ViewForm(
        view is None,
        view.label if view else "",
        view.api_name if view else "",
        view.visibility if view else "shared",
        columns,
        blank_lines(lines),
        sort.lstrip("-"),
        "desc" if sort.startswith("-") else "asc",
        **_choices(current, obj),
        **_board_of(view.board if view else None),
    )


def _board_of(board: Board | None) -> dict[str, Any]:
    if board is None:
        return {}
    return {
        "board_group_by": board.group_by,
        "board_cards": board.card_fields,
        "board_summary": board.summary_field or "",
    }


def posted_form(
    current: Screen, obj: ObjectSchema, form: MultiDict[str, str], view: ListView | None
) -> ViewForm:
    """The form as posted (with the move, added or removed filter line it asked for)."""
    labels = {item.path: item for item in chooser_items(obj, current.schema, current.access, ())}
    ticked = {column["field"] for column in chosen_columns(form)}
    order = _moved(form.getlist("order"), form.get("move", ""))
    columns = [
        ChooserItem(path, labels[path].label if path in labels else path, path in ticked, None)
        for path in order
    ]
    removed = form.get("remove_filter", "")
    lines = [line for line in filter_lines(form) if str(line.index) != removed]
    if removed:  # numbered afresh, so lines added and removed stay within the panel's
        lines = [dataclasses.replace(line, index=n) for n, line in enumerate(lines)]
    if "add_filter" in form or not any(not line.field for line in lines):
        lines = blank_lines(lines)
    return ViewForm(
        view is None,
        form.get("label", "").strip(),
        (form.get("api_name", "") if view is None else view.api_name).strip(),
        (form.get("visibility", "shared") if view is None else view.visibility),
        columns,
        lines,
        form.get("sort_field", ""),
        "desc" if form.get("sort_dir") == "desc" else "asc",
        **_choices(current, obj),
        board_group_by=form.get("board_group_by", ""),
        board_cards=tuple(form.getlist("board_card")),
        board_summary=form.get("board_summary", ""),
    )


def _moved(order: list[str], move: str) -> list[str]:
    path, _, direction = move.rpartition(":")
    if path in order:
        index = order.index(path)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
    return order


def filter_lines(form: MultiDict[str, str]) -> list[FilterLine]:
    lines = []
    for index in range(MAX_FILTERS * 2 + 1):
        field = form.get(f"f{index}.field", "")
        if field:
            operator = form.get(f"f{index}.op", "")
            lines.append(
                FilterLine(index, field, operator, form.get(f"f{index}.value", "").strip())
            )
    return lines


def view_body(obj: ObjectSchema, form: MultiDict[str, str], creating: bool) -> dict[str, Any]:
    """The body the list views service takes for the posted form."""
    body: dict[str, Any] = {
        "label": form.get("label", ""),
        "columns": chosen_columns(form),
        "filters": [each.to_json() for each in panel_filters(obj, form)],
        "sort": sort_choice(form) or DEFAULT_SORT,
        "board": _board_body(form),
    }
    if creating:
        body["api_name"] = form.get("api_name", "").strip()
        body["visibility"] = form.get("visibility", "shared")
    return body


def _board_body(form: MultiDict[str, str]) -> dict[str, Any] | None:
    """The board part of the posted form: None when it groups by nothing."""
    group_by = form.get("board_group_by", "")
    if not group_by:
        return None
    return {
        "group_by": group_by,
        "card_fields": form.getlist("board_card"),
        "summary_field": form.get("board_summary") or None,
    }


def placed_errors(fields: Errors, form: MultiDict[str, str]) -> Errors:
    """The service's messages by the form's places: ``filters.<n>`` (the n-th filter
    taken) as the line it came from, ``columns.<n>`` as the columns."""
    counted = [line.index for line in filter_lines(form) if line.counts]
    placed: Errors = {}
    for key, messages in fields.items():
        head, _, number = key.partition(".")
        if head == "filters" and number.isdigit() and int(number) < len(counted):
            placed.setdefault(f"line.{counted[int(number)]}", []).extend(messages)
        else:
            placed.setdefault(head, []).extend(messages)
    return placed
