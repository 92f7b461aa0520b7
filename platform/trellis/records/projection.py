"""``fields=``: which fields a record read returns, and which related records come with it.

``fields=Name,Amount,Account.Name,Account.Owner.Email`` returns the system fields, Name,
Amount and Account; Account, whose related fields are named, comes as an object
``{"id": …, "Name": …, "Owner": {"id": …, "Email": …}}`` in place of its id (a lookup
named alone stays the id). The paths are those formulas read, through at most two
lookups (trellis.metadata.formulas.resolve_path). A field that field-level security
hides, on the record or on a related one, is as unknown as a field that does not exist:
both get the same 400. trellis.records.serialize turns a :class:`Projection` into SQL.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from trellis.access.gate import Access
from trellis.errors import BadRequest
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.formulas import PathStep, PathTooDeep, UnknownPath, resolve_path

# A path as a view or a board names it: a field, through at most two lookups.
FIELD_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(?:\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,2}")
# Each path adds to the statement a request builds (and caches): at most this many (an
# object has at most 500 fields).
MAX_PATHS = 500


@dataclasses.dataclass(frozen=True)
class Projection:
    """The fields asked of one record, in the order first asked, and for each lookup whose
    related fields are asked, the projection of the related record. Hashable: statements
    are cached by it."""

    fields: tuple[str, ...]
    expanded: tuple[tuple[str, Projection], ...] = ()

    def expansion(self, name: str) -> Projection | None:
        for lookup, projection in self.expanded:
            if lookup == name:
                return projection
        return None


def parse_projection(
    obj: ObjectSchema, schema: TenantSchema, access: Access, raw: list[str]
) -> Projection | None:
    """``fields=`` values (repeated or comma-separated) as the :class:`Projection` of
    ``obj`` records that ``access`` may ask for; None when no field is named. An unknown or
    hidden path is a 400 ``unknown_field`` naming it (after the 403 of an actor who may
    not read ``obj`` records at all)."""
    access.rights.require(obj.api_name, "read")
    paths = list(dict.fromkeys(part.strip() for part in ",".join(raw).split(",")))
    paths = [path for path in paths if path]
    if not paths:
        return None
    if len(paths) > MAX_PATHS:
        raise BadRequest(
            f"Name at most {MAX_PATHS} fields.",
            code="too_many_fields",
            fields={"fields": f"{len(paths)} given."},
        )
    return _projection([_steps(obj, schema, access, path) for path in paths], top=True)


def _steps(
    obj: ObjectSchema, schema: TenantSchema, access: Access, path: str
) -> tuple[PathStep, ...]:
    try:
        steps = resolve_path(schema, obj, path)
    except PathTooDeep as error:
        raise BadRequest(
            f"{path!r}: {error}.", code="unknown_field", fields={"fields": str(error)}
        ) from None
    except UnknownPath:
        steps = None
    # One answer for a path that does not exist and one the actor may not read: which
    # fields exist is itself kept from them.
    if steps is None or not access.can_read_path(steps):
        raise BadRequest(
            f"{obj.api_name} has no field {path!r}: name a field, or a lookup and a field "
            "of the record it points at (Account.Name).",
            code="unknown_field",
            fields={"fields": f"Unknown field {path!r}."},
        )
    return steps


def _projection(paths: list[tuple[PathStep, ...]], *, top: bool) -> Projection:
    """Paths grouped by their first name: the record's own fields, and what each lookup
    expands to. The system fields of the record are always returned, and ``id`` of a
    related one, so naming them adds nothing."""
    fields: dict[str, None] = {}
    nested: dict[str, list[tuple[PathStep, ...]]] = {}
    for steps in paths:
        head = steps[0]
        if head.field is None and len(steps) == 1 and (top or head.name == "id"):
            continue
        fields[head.name] = None
        if len(steps) > 1:
            nested.setdefault(head.name, []).append(steps[1:])
    return Projection(
        tuple(fields),
        tuple((name, _projection(rest, top=False)) for name, rest in nested.items()),
    )


def readable_path(obj: ObjectSchema, schema: TenantSchema, access: Access, path: Any) -> str | None:
    """``path`` as the metadata spells it when the reader may ask for it in ``fields=``;
    None for a path that does not exist and for one they may not read alike."""
    if not isinstance(path, str) or not FIELD_PATH.fullmatch(path):
        return None
    try:
        parse_projection(obj, schema, access, [path])
        steps = resolve_path(schema, obj, path)
    except (BadRequest, UnknownPath):
        return None
    return ".".join(step.name for step in steps)
