"""The values editor of a list of choices, as a plain form: one row per value (its
value, label and whether it is still offered), in the order of the rows' ``key``
inputs, so reordering the rows in the page (by drag or the arrow buttons of
setup_objects.js) reorders the values with no renumbering. Without JavaScript the arrow
buttons submit the form, which comes back with the row moved. New values are typed one
per line; a row whose value is cleared is left out (a value records hold is then
refused by the metadata service's data-loss check: deactivate it instead)."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from trellis.views.setup.field_controls import ValueRow

MAX_ROWS = 1000


def rows_of(values: list[Any]) -> list[ValueRow]:
    """A definition's ``values`` (strings or ``{value, label, active}``) as rows."""
    rows = []
    for index, item in enumerate(values):
        if isinstance(item, str):
            rows.append(ValueRow(str(index), item, "", True))
        elif isinstance(item, dict) and isinstance(item.get("value"), str):
            label = item.get("label")
            shown = label if isinstance(label, str) and label != item["value"] else ""
            rows.append(ValueRow(str(index), item["value"], shown, item.get("active") is not False))
    return rows


def read_rows(posted: MultiDict[str, str], name: str) -> tuple[list[ValueRow], str]:
    """The rows the form sent, in order, with a requested move made (``_move`` is
    ``<key>:up`` or ``<key>:down``), and the new values' text."""
    rows = []
    for key in posted.getlist(f"{name}_key")[:MAX_ROWS]:
        if not key.isdigit():
            continue
        prefix = f"{name}_{key}_"
        rows.append(
            ValueRow(
                key,
                posted.get(prefix + "value", "").strip(),
                posted.get(prefix + "label", "").strip(),
                posted.get(prefix + "active") in {"on", "true", "1"},
            )
        )
    _move(rows, posted.get("_move", ""))
    new_text = posted.get(f"{name}_new", "")
    return rows, new_text


def with_new_values(rows: list[ValueRow], new_text: str) -> list[ValueRow]:
    """The rows followed by one new row per non-blank line of ``new_text``."""
    start = max((int(row.key) for row in rows), default=-1) + 1
    lines = [line.strip() for line in new_text.splitlines() if line.strip()]
    return [*rows, *(ValueRow(str(start + i), line, "", True) for i, line in enumerate(lines))]


def _move(rows: list[ValueRow], move: str) -> None:
    key, _, direction = move.partition(":")
    index = next((i for i, row in enumerate(rows) if row.key == key), None)
    if index is None or direction not in {"up", "down"}:
        return
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]


def values_of(rows: list[ValueRow]) -> list[Any]:
    """The definition's ``values``: a plain string for an active value shown as itself."""
    values: list[Any] = []
    for row in rows:
        if not row.value:
            continue
        if row.active and not row.label:
            values.append(row.value)
        else:
            item: dict[str, Any] = {"value": row.value}
            if row.label:
                item["label"] = row.label
            if not row.active:
                item["active"] = False
            values.append(item)
    return values
