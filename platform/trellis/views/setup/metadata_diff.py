"""Metadata changes as Setup shows them: a revision's stored changes (or an import plan's
diffs) turned into per-document groups of readable lines, secrets masked as the API
masks them, and the people who made them named."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trellis.identity.tables import users
from trellis.metadata.secrets import redact_changes
from trellis.state import get_state

KIND_LABELS = {"object": "Object", "role": "Role", "permission_set": "Permission set"}
# A value longer than this, or not a scalar, is shown as a block rather than inline.
INLINE_LENGTH = 60


@dataclasses.dataclass(frozen=True)
class Line:
    """One change: what it is (``added``, ``removed``, ``changed``, ``created``,
    ``deleted``), where (the field and property it touches) and the values."""

    kind: str
    where: str
    old: str | None = None
    new: str | None = None

    @property
    def block(self) -> bool:
        values = [value for value in (self.old, self.new) if value is not None]
        return any("\n" in value or len(value) > INLINE_LENGTH for value in values)


@dataclasses.dataclass(frozen=True)
class DocumentDiff:
    kind: str
    name: str
    lines: list[Line]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())


def shown(value: Any) -> str:
    """A definition value as text: scalars as they are, structures as indented JSON."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def lines_of(diff: Iterable[dict[str, Any]]) -> list[Line]:
    """The lines of one document's diff items (:func:`diff_definitions`'s shape)."""
    lines = []
    for item in diff:
        change = item["change"]
        if change in {"object created", "object deleted"}:
            lines.append(Line(change.removeprefix("object "), "the whole definition"))
        elif change == "field added":
            lines.append(Line("added", f"Field {item['field']}"))
        elif change == "field removed":
            lines.append(Line("removed", f"Field {item['field']}"))
        else:
            where = item["property"]
            if change == "field property":
                where = f"{item['field']} · {where}"
            lines.append(Line("changed", where, shown(item.get("old")), shown(item.get("new"))))
    return lines


def revision_documents(changes: list[dict[str, Any]]) -> list[DocumentDiff]:
    """A revision's changes, one group per document, its secrets masked."""
    masked = redact_changes(get_state().metadata_cache.actions, changes)
    return [
        DocumentDiff(
            change.get("kind", "object"), str(change.get("object")), lines_of(change["diff"])
        )
        for change in masked
    ]


def changed_names(changes: list[dict[str, Any]]) -> list[str]:
    return [str(change.get("object")) for change in changes]


def people(connection: Connection, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Display names (or emails) of the users ``ids`` name, in one query."""
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    rows = connection.execute(
        sa.select(users.c.id, users.c.display_name, users.c.email).where(users.c.id.in_(wanted))
    )
    return {row.id: row.display_name or row.email for row in rows}
