"""A list view's board part checked as its author may write it, and read back as one
reader may see it.

A board groups by a field whose values are picked one at a time from a list (a
picklist, or any plugin type whose :meth:`~trellis.metadata.field_types.FieldType.choices`
are a list and whose filters take ``eq``), stored on the record so a move can change it.
Its cards show field paths the list API's ``fields=`` accepts from the author, and its
columns may sum one number field. Field-level security is part of each check: a field
the author may not read is as unknown as one that does not exist, and a reader who may
not read the grouping field sees no board at all (:func:`board_for_reader`).
"""

from __future__ import annotations

from typing import Any

from trellis.access.gate import Access
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.records.list_views import BOARD_KEYS, MAX_CARD_FIELDS, Board, Errors
from trellis.records.projection import readable_path


def groups_a_board(field: CompiledField) -> bool:
    """Whether a board may have a column per value of ``field``: its values are chosen
    from a list, one at a time, and stored (so moving a card can write one)."""
    definition = field.definition
    return (
        field.type.stored
        and not field.type.computed
        and field.type.choices(definition) is not None
        and "eq" in field.type.operators_for(definition)
    )


def sums_on_a_board(field: CompiledField) -> bool:
    """Whether a board's columns may add up ``field``: its SQL values are numbers."""
    return field.sql_type == "numeric"


def _readable_field(obj: ObjectSchema, access: Access, name: Any) -> CompiledField | None:
    if not isinstance(name, str):
        return None
    field = obj.find(name)
    if field is None or field.api_name in access.unreadable_fields(obj):
        return None
    return field


def board_fields(obj: ObjectSchema, access: Access) -> tuple[list[CompiledField], ...]:
    """The fields the reader may group a board by, and those they may sum, in the
    object's order (the board editor's choices)."""
    readable = [field for name, field in obj.fields.items() if _readable_field(obj, access, name)]
    return [f for f in readable if groups_a_board(f)], [f for f in readable if sums_on_a_board(f)]


def parse_board(
    obj: ObjectSchema, schema: TenantSchema, access: Access, raw: Any, errors: Errors
) -> Board | None:
    """The board of ``{"group_by", "card_fields", "summary_field"}`` (None: no board),
    each part named as the metadata spells it; mistakes go in ``errors`` under
    ``board.<part>``."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - set(BOARD_KEYS):
        errors["board"] = [f"A board has {', '.join(BOARD_KEYS)}, or is null for none."]
        return None
    group = _readable_field(obj, access, raw.get("group_by"))
    if group is None or not groups_a_board(group):
        errors["board.group_by"] = [f"Group by a picklist field of {obj.api_name}."]
    cards = _card_fields(obj, schema, access, raw.get("card_fields", []), errors)
    summary_name = raw.get("summary_field")
    summary = _readable_field(obj, access, summary_name)
    if summary_name is not None and (summary is None or not sums_on_a_board(summary)):
        errors["board.summary_field"] = [f"Sum a number field of {obj.api_name}, or null for none."]
    if group is None or "board.group_by" in errors:
        return None
    return Board(group.api_name, cards, summary.api_name if summary else None)


def _card_fields(
    obj: ObjectSchema, schema: TenantSchema, access: Access, raw: Any, errors: Errors
) -> tuple[str, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_CARD_FIELDS:
        errors["board.card_fields"] = [f"A list of at most {MAX_CARD_FIELDS} fields."]
        return ()
    paths: list[str] = []
    for index, path in enumerate(raw):
        canonical = readable_path(obj, schema, access, path)
        if canonical is None:
            errors[f"board.card_fields.{index}"] = [f"Unknown field {path!r}."]
        elif canonical in paths:
            errors[f"board.card_fields.{index}"] = [f"{canonical} is already on the cards."]
        else:
            paths.append(canonical)
    return tuple(paths)


def board_for_reader(
    obj: ObjectSchema, schema: TenantSchema, access: Access, board: Board | None
) -> Board | None:
    """``board`` without the card fields and sum the reader may not read; None when they
    may not read the field it groups by (or it no longer groups a board)."""
    if board is None:
        return None
    group = _readable_field(obj, access, board.group_by)
    if group is None or not groups_a_board(group):
        return None
    cards = tuple(
        path
        for each in board.card_fields
        if (path := readable_path(obj, schema, access, each)) is not None
    )
    summary = _readable_field(obj, access, board.summary_field)
    summary_name = summary.api_name if summary and sums_on_a_board(summary) else None
    return Board(group.api_name, cards, summary_name)
