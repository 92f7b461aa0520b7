"""The columns of a list screen: a view's field paths as table columns (a header, the
field whose value a cell shows, whether it sorts, a width) and the ``fields=`` the list
query must return for them.

A lookup column asks for the related record's name (``Account.Name``, by the target's
name field) so the cell links to it by name; a related record the reader may not read
comes back as its id alone and shows as "Restricted record" (trellis.views.field_values).
The name field's cell links to the record page; with no name column, the first plain
column does, so every row opens its record.
"""

from __future__ import annotations

import dataclasses
import functools
import html
from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup

from trellis.access.gate import Access
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.formulas import resolve_path
from trellis.records.list_views import MAX_WIDTH, MIN_WIDTH, ViewColumn
from trellis.records.names import readable_name_field
from trellis.state import get_state
from trellis.views import field_values

# How system columns show: their label and the field type their values read as.
SYSTEM_FIELDS = {
    "created_at": ("Created", "datetime"),
    "updated_at": ("Last modified", "datetime"),
    "version": ("Version", "number"),
    "id": ("Id", "text"),
    "owner_id": ("Owner", "text"),
    "created_by": ("Created by", "text"),
    "updated_by": ("Last modified by", "text"),
}
# A column's width when the view gives none, by the kind of value it shows (pixels).
DEFAULT_WIDTHS = {
    "text": 180,
    "auto_number": 140,
    "long_text": 260,
    "rich_text": 260,
    "email": 220,
    "url": 220,
    "phone": 150,
    "number": 120,
    "currency": 140,
    "percent": 110,
    "checkbox": 100,
    "date": 130,
    "datetime": 180,
    "time": 110,
    "picklist": 150,
    "multi_picklist": 200,
    "lookup": 200,
}
NAME_WIDTH, OTHER_WIDTH, WIDTH_STEP = 260, 160, 20
NUMERIC_KINDS = frozenset({"number", "currency", "percent"})
# Columns that link on their own, so they do not also open the record.
LINKING_KINDS = frozenset({"lookup", "email", "url", "phone"})
# Kinds whose values may be longer than their column: their cells carry the whole text.
CLIPPED_KINDS = frozenset(
    {"text", "auto_number", "long_text", "rich_text", "email", "url", "lookup", "multi_picklist"}
)
# Kinds shown as their own text.
PLAIN_KINDS = frozenset({"text", "auto_number", "long_text", "email", "url", "phone", "time"})


@dataclasses.dataclass(frozen=True)
class ScreenColumn:  # frozen, with cached properties: a dataclass gives it a __dict__
    path: str
    label: str
    field: CompiledField
    #: What ``sort=`` takes to sort by this column; None when it cannot sort.
    sort_name: str | None
    width: int
    #: The cell links to the record page.
    opens_record: bool = False
    #: A lookup column's related name field, in the expanded value.
    name_key: str | None = None

    @functools.cached_property
    def kind(self) -> str:
        """The kind of value shown: the field type, or a formula's return type."""
        name = self.field.type.name
        return (
            name if name in DEFAULT_WIDTHS else self.field.type.formula_type(self.field.definition)
        )

    @functools.cached_property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def width_class(self) -> str:
        """The stylesheet class of the width, in steps of 20 px (no inline styles: CSP)."""
        snapped = round(self.width / WIDTH_STEP) * WIDTH_STEP
        return f"col-w-{min(MAX_WIDTH, max(MIN_WIDTH, snapped))}"

    def value(self, row: dict[str, Any]) -> Any:
        current: Any = row
        for name in self.steps:
            current = current.get(name) if isinstance(current, dict) else None
        return current

    def text(self, value: Any, display: field_values.Display) -> str:
        """The value as plain text (a truncated cell's title, the record link's words);
        ``display`` is the column's :func:`~trellis.views.field_values.displayer`."""
        if value in (None, "", []):
            return ""
        kind = self.kind
        if kind in PLAIN_KINDS:
            return str(value)
        if kind == "lookup" and isinstance(value, dict):
            return str(value.get(self.name_key or "id") or "") if len(value) > 1 else ""
        if kind == "multi_picklist" and isinstance(value, list):
            return ", ".join(str(each) for each in value)
        return Markup(display(value)).striptags()


def table_body(
    columns: list[ScreenColumn],
    schema: TenantSchema,
    api_name: str,
    rows: list[dict[str, Any]],
    select_form: str | None = None,
) -> Markup:
    """The table's rows, each cell with its label (which a phone shows beside the value)
    and its whole text as a title where it may be cut short; with ``select_form``, each
    row starts with a box "Select <name>" of that form (the mass actions). Written here
    rather than in the template, and each column's cell worked out once: a page of 200
    rows is thousands of cells, and this is several times faster than the same loop in
    Jinja (benchmarks/screens_bench.py)."""
    cells = [_cell_writer(column, schema, api_name) for column in columns]
    if select_form is not None:
        cells.insert(0, _select_writer(columns, schema, select_form))
    return Markup(
        "".join(["<tr>" + "".join([cell(row) for cell in cells]) + "</tr>\n" for row in rows])
    )


def _select_writer(
    columns: list[ScreenColumn], schema: TenantSchema, form: str
) -> Callable[[dict[str, Any]], str]:
    """A row's selection box, named by the record as its link names it."""
    opening = next((column for column in columns if column.opens_record), None)
    display = field_values.displayer(schema, opening.field) if opening else None

    def select(row: dict[str, Any]) -> str:
        name = opening.text(opening.value(row), display) if opening and display else ""
        label = html.escape(f"Select {name or 'Untitled'}")
        return (
            f'<td class="list-select"><input type="checkbox" name="id" value="{row["id"]}" '
            f'form="{form}" aria-label="{label}" data-list-select></td>'
        )

    return select


def _cell_writer(
    column: ScreenColumn, schema: TenantSchema, api_name: str
) -> Callable[[dict[str, Any]], str]:
    """A function writing ``column``'s cell of a row as HTML text. The record-opening
    column links to ``/o/<api_name>/<id>``; a value that may be cut short carries its
    whole text as the cell's title."""
    classes = "list-cell" + (" cell-number" if column.numeric else "")
    classes += " cell-record" if column.opens_record else ""
    start = f'<td class="{classes}"'
    rest = (
        f'><span class="cell-label" aria-hidden="true">{html.escape(column.label)}</span>'
        '<span class="cell-value">'
    )
    display = field_values.displayer(schema, column.field)
    steps = column.steps
    value_of = (lambda row: row.get(steps[0])) if len(steps) == 1 else column.value
    clipped = column.kind in CLIPPED_KINDS
    if column.opens_record:

        def opening(row: dict[str, Any]) -> str:
            words = html.escape(column.text(value_of(row), display))
            title = f' title="{words}"' if words and clipped else ""
            # A record id is a UUID the database wrote: nothing in it to escape.
            url = field_values.record_url(api_name, row["id"])
            return f'{start}{title}{rest}<a href="{url}">{words or "Untitled"}</a></span></td>'

        return opening
    if clipped:

        def titled(row: dict[str, Any]) -> str:
            value = value_of(row)
            words = html.escape(column.text(value, display))
            title = f' title="{words}"' if words else ""
            return f"{start}{title}{rest}{display(value)}</span></td>"

        return titled
    plain_start = start + rest
    return lambda row: f"{plain_start}{display(value_of(row))}</span></td>"


def _system_field(name: str) -> CompiledField:
    label, type_name = SYSTEM_FIELDS[name]
    field_type = get_state().field_types.get(type_name)
    definition = {"api_name": name, "label": label, "type": type_name}
    return CompiledField(name, definition, field_type, field_type.normalizer(definition))


def _label(field: CompiledField) -> str:
    return str(field.definition.get("label") or field.api_name)


def screen_columns(
    obj: ObjectSchema, schema: TenantSchema, columns: Iterable[ViewColumn]
) -> list[ScreenColumn]:
    """The table columns of a view's (already readable) columns, in order."""
    shown = []
    for column in columns:
        steps = resolve_path(schema, obj, column.field)
        last = steps[-1]
        field = last.field if last.field is not None else _system_field(last.name)
        label = SYSTEM_FIELDS[last.name][0] if last.field is None else _label(field)
        if len(steps) > 1:
            via = steps[-2].field
            label = f"{label} ({_label(via) if via is not None else steps[-2].name})"
        own = len(steps) == 1
        sortable = own and field.type.sortable and field.sql_type is not None
        target = schema.objects.get(str(field.definition.get("target", "")).lower())
        name_key = target.name_field if target is not None else None
        found = ScreenColumn(
            column.field, label, field, last.name if sortable else None, 0, name_key=name_key
        )
        is_name = own and last.name == obj.name_field
        default = NAME_WIDTH if is_name else DEFAULT_WIDTHS.get(found.kind, OTHER_WIDTH)
        shown.append(dataclasses.replace(found, width=column.width or default))
    return _with_record_link(obj, shown)


def _with_record_link(obj: ObjectSchema, columns: list[ScreenColumn]) -> list[ScreenColumn]:
    """The name column opens the record; without one, the first plain own column does."""
    chosen = next((c for c in columns if c.path == obj.name_field), None) or next(
        (c for c in columns if "." not in c.path and c.kind not in LINKING_KINDS), None
    )
    return [dataclasses.replace(c, opens_record=c is chosen) for c in columns]


def projection_paths(
    obj: ObjectSchema, schema: TenantSchema, access: Access, columns: list[ScreenColumn]
) -> list[str]:
    """The ``fields=`` paths a page of these columns needs: each column, and for each
    lookup column the related record's name field, where the reader may read it."""
    paths: list[str] = []
    for column in columns:
        paths.append(column.path)
        if "." in column.path or not column.field.type.references_records:
            continue
        target = schema.objects.get(str(column.field.definition.get("target", "")).lower())
        name = readable_name_field(target, access) if target is not None else None
        if name is not None:
            paths.append(f"{column.path}.{name}")
    return paths


@dataclasses.dataclass(frozen=True)
class ChooserItem:
    path: str
    label: str
    shown: bool
    width: int | None


def chooser_items(
    obj: ObjectSchema, schema: TenantSchema, access: Access, columns: tuple[ViewColumn, ...]
) -> list[ChooserItem]:
    """The column chooser's list: the columns shown, in order, then every other field the
    reader may read and Created and Last modified, in the object's order."""
    shown = screen_columns(obj, schema, columns)
    items = [
        ChooserItem(column.path, column.label, True, view.width)
        for column, view in zip(shown, columns, strict=True)
    ]
    hidden = access.unreadable_fields(obj)
    named = {column.field for column in columns}
    for name, field in obj.fields.items():
        if name not in hidden and name not in named:
            items.append(ChooserItem(name, _label(field), False, None))
    for name in ("created_at", "updated_at"):
        if name not in named:
            items.append(ChooserItem(name, SYSTEM_FIELDS[name][0], False, None))
    return items
