"""Saved list views and each user's choice of columns, as one reader may see and change
them.

A reader sees the object's shared views and their own private ones, the generated
``all`` and ``mine`` views where no shared view replaces them, each without what
field-level security hides from them (:func:`trellis.records.list_views.for_reader`).
Shared views are changed by users with the ``manage_metadata`` right (changes are
audited as metadata changes); private ones by their owner alone, and nobody else learns
they exist. A name is looked up among the reader's own views first.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Row

from trellis.access.audit import record_audit
from trellis.access.gate import Access
from trellis.actor import Actor
from trellis.db import driver_execute
from trellis.errors import BadRequest, Conflict, Forbidden, NotFound
from trellis.metadata.compiled import ObjectSchema
from trellis.records import list_view_cache
from trellis.records.list_view_checks import for_reader, parse_columns, parse_view
from trellis.records.list_views import (
    GENERATED,
    Board,
    ListView,
    ViewColumn,
    ViewFilter,
    generated_views,
)
from trellis.records.projection import readable_path
from trellis.records.tables import list_view_preferences, list_views

SHARING_RIGHT = "manage_metadata"


def may_share(actor: Actor) -> bool:
    """Whether the actor may create and change shared views."""
    return actor.has_right(SHARING_RIGHT)


def _from_row(row: Row[Any]) -> ListView:
    definition = row.definition
    return ListView(
        api_name=row.api_name,
        label=row.label,
        columns=tuple(ViewColumn(c["field"], c.get("width")) for c in definition["columns"]),
        filters=tuple(
            ViewFilter(f["field"], f["operator"], f["value"]) for f in definition["filters"]
        ),
        sort=definition["sort"],
        shared=row.owner_id is None,
        id=row.id,
        owner_id=row.owner_id,
        updated_at=row.updated_at,
        board=Board.from_json(definition.get("board")),
    )


def _stored(connection: Connection, access: Access, obj: ObjectSchema) -> list[ListView]:
    """The shared views of ``obj`` and the reader's private ones, as stored."""
    actor = access.actor
    mine = (
        list_views.c.owner_id.is_(None)
        if actor.user_id is None
        else sa.or_(list_views.c.owner_id.is_(None), list_views.c.owner_id == actor.user_id)
    )
    rows = connection.execute(
        sa.select(list_views).where(
            list_views.c.tenant_id == actor.tenant_id, list_views.c.object_id == obj.id, mine
        )
    ).all()
    return [_from_row(row) for row in rows]


def visible_views(connection: Connection, access: Access, obj: ObjectSchema) -> list[ListView]:
    """The views the reader may pick, as stored (not yet :func:`for_reader`): ``all`` and
    ``mine`` (or the shared views that replace them), the other shared views, then the
    reader's own, each group by label."""
    return _arranged(obj, access, _stored(connection, access, obj))


def _views_and_choice_statement() -> sa.CompoundSelect[Any]:
    table, chosen = list_views.c, list_view_preferences.c
    views = sa.select(
        sa.literal("view").label("kind"),
        table.id,
        table.owner_id,
        table.api_name,
        table.label,
        table.definition,
        table.updated_at,
    ).where(
        table.tenant_id == sa.bindparam("tenant_id"),
        table.object_id == sa.bindparam("object_id"),
        sa.or_(table.owner_id.is_(None), table.owner_id == sa.bindparam("user_id")),
    )
    choice = sa.select(
        sa.literal("choice"),
        sa.null().cast(table.id.type),
        sa.null().cast(table.owner_id.type),
        sa.null().cast(sa.Text),
        sa.null().cast(sa.Text),
        chosen.columns,
        chosen.updated_at,
    ).where(
        chosen.tenant_id == sa.bindparam("tenant_id"),
        chosen.object_id == sa.bindparam("object_id"),
        chosen.view == sa.bindparam("view"),
        chosen.user_id == sa.bindparam("user_id"),
    )
    return sa.union_all(views, choice)


# Built once: every list screen runs it, and building it cost more than running it.
_VIEWS_AND_CHOICE = _views_and_choice_statement()
# Who owns no view and chose no columns: an actor without a user (the system).
NOBODY = uuid.UUID(int=0)


def views_and_choice(
    connection: Connection, access: Access, obj: ObjectSchema, view_name: str
) -> tuple[list[ListView], tuple[ViewColumn, ...] | None]:
    """:func:`visible_views` and the columns the reader chose for ``view_name`` (without
    those they may no longer read; None when they chose none), in one statement or none
    (:mod:`~trellis.records.list_view_cache`): a list screen reads both for every page."""
    actor = access.actor
    key = (actor.tenant_id, obj.id, actor.user_id or NOBODY, view_name.lower())
    parameters = dict(zip(("tenant_id", "object_id", "user_id", "view"), key, strict=True))

    def read() -> tuple[list[ListView], list[dict[str, Any]] | None]:
        rows = driver_execute(connection, _VIEWS_AND_CHOICE, parameters).fetchall()
        stored = [_from_row(row) for row in rows if row.kind == "view"]
        return stored, next((row.definition for row in rows if row.kind == "choice"), None)

    stored, columns = list_view_cache.kept(connection, key, read)
    return _arranged(obj, access, stored), _readable_choice(obj, access, columns)


def _arranged(obj: ObjectSchema, access: Access, stored: list[ListView]) -> list[ListView]:
    shared = {view.api_name.lower(): view for view in stored if view.shared}
    first = [shared.pop(view.api_name, view) for view in generated_views(obj, access)]
    by_label = sorted(stored, key=lambda view: view.label.lower())
    rest = [view for view in by_label if view.shared and view.api_name.lower() in shared]
    return first + rest + [view for view in by_label if not view.shared]


def pick_view(views: list[ListView], api_name: str) -> ListView | None:
    """The view named ``api_name`` among ``views``: the reader's own first."""
    for view in sorted(views, key=lambda view: view.shared):
        if view.api_name.lower() == api_name.lower():
            return view
    return None


def find_view(connection: Connection, access: Access, obj: ObjectSchema, api_name: str) -> ListView:
    """The view the reader knows by ``api_name`` (their own first), as stored."""
    found = pick_view(visible_views(connection, access, obj), api_name)
    if found is None:
        raise NotFound(f"{obj.api_name} has no list view {api_name!r}.", code="unknown_list_view")
    return found


def reader_view(
    connection: Connection, access: Access, obj: ObjectSchema, api_name: str
) -> ListView:
    return for_reader(obj, access.schema, access, find_view(connection, access, obj, api_name))


def _require_may_change(actor: Actor, view: ListView) -> None:
    if view.shared and not may_share(actor):
        raise Forbidden(
            "Changing a shared view needs the manage metadata right; save your own copy.",
            code="no_system_right",
        )


def create_view(connection: Connection, access: Access, obj: ObjectSchema, body: Any) -> ListView:
    """Save a new view (private unless ``visibility`` is ``shared``)."""
    view = parse_view(obj, access.schema, access, body)
    actor = access.actor
    _require_may_change(actor, view)
    if not view.shared and actor.user_id is None:
        raise BadRequest("Private views belong to a user; this actor has none.")
    taken = {each.api_name.lower() for each in _stored(connection, access, obj)}
    if not view.shared:
        taken |= set(GENERATED)
    if view.api_name.lower() in taken:
        raise Conflict(
            f"{obj.api_name} already has a view named {view.api_name}; choose another name.",
            code="list_view_exists",
            fields={"api_name": "Already in use."},
        )
    return _insert(connection, actor, obj, view)


def _insert(connection: Connection, actor: Actor, obj: ObjectSchema, view: ListView) -> ListView:
    savepoint = connection.begin_nested()
    try:
        row = connection.execute(
            list_views.insert()
            .values(
                tenant_id=actor.tenant_id,
                object_id=obj.id,
                owner_id=None if view.shared else actor.user_id,
                api_name=view.api_name,
                label=view.label,
                definition=view.definition(),
                created_by=actor.user_id,
                updated_by=actor.user_id,
            )
            .returning(*list_views.c)
        ).one()
    except sa.exc.IntegrityError:
        savepoint.rollback()  # a view of that name saved a moment ago
        raise Conflict(
            f"{obj.api_name} already has a view named {view.api_name}; choose another name.",
            code="list_view_exists",
            fields={"api_name": "Already in use."},
        ) from None
    savepoint.commit()
    list_view_cache.changed(connection, actor.tenant_id)
    _audit(connection, actor, obj, view, "created")
    return _from_row(row)


def update_view(
    connection: Connection, access: Access, obj: ObjectSchema, api_name: str, body: Any
) -> ListView:
    """Change the parts of a view ``body`` names; changing a generated view saves the
    shared view that replaces it."""
    current = find_view(connection, access, obj, api_name)
    _require_may_change(access.actor, current)
    return save_changes(
        connection, access.actor, obj, parse_view(obj, access.schema, access, body, current)
    )


def save_changes(
    connection: Connection, actor: Actor, obj: ObjectSchema, view: ListView
) -> ListView:
    """Store a checked view: a new row for one with no id (a generated view replaced,
    a view imported), else its row's label and definition."""
    if view.id is None:
        return _insert(connection, actor, obj, view)
    row = connection.execute(
        list_views.update()
        .where(list_views.c.tenant_id == actor.tenant_id, list_views.c.id == view.id)
        .values(
            label=view.label,
            definition=view.definition(),
            updated_by=actor.user_id,
            # The moment, not the transaction's start: the version readers' caches key on.
            updated_at=sa.func.clock_timestamp(),
        )
        .returning(*list_views.c)
    ).one()
    list_view_cache.changed(connection, actor.tenant_id)
    _audit(connection, actor, obj, view, "updated")
    return _from_row(row)


def stored_shared_view(
    connection: Connection, access: Access, obj: ObjectSchema, api_name: str
) -> ListView | None:
    """The shared view saved under ``api_name`` (not a generated one), if any."""
    for view in _stored(connection, access, obj):
        if view.shared and view.api_name.lower() == api_name.lower():
            return view
    return None


def delete_view(connection: Connection, access: Access, obj: ObjectSchema, api_name: str) -> None:
    """Delete a saved view and the column choices made for it (a shared view that
    replaced a generated one gives the generated one back)."""
    current = find_view(connection, access, obj, api_name)
    if current.generated:
        raise Conflict("A generated view cannot be deleted.", code="generated_list_view")
    _require_may_change(access.actor, current)
    connection.execute(
        list_views.delete().where(
            list_views.c.tenant_id == access.actor.tenant_id, list_views.c.id == current.id
        )
    )
    table = list_view_preferences.c
    choices = [
        table.tenant_id == access.actor.tenant_id,
        table.object_id == obj.id,
        table.view == current.api_name.lower(),
    ]
    if not current.shared:  # a shared view's choices are everyone's, a private one's its owner's
        choices.append(table.user_id == access.actor.user_id)
    connection.execute(list_view_preferences.delete().where(*choices))
    list_view_cache.changed(connection, access.actor.tenant_id)
    _audit(connection, access.actor, obj, current, "deleted")


def column_choices(
    connection: Connection, access: Access, obj: ObjectSchema, view: ListView
) -> int:
    """How many users chose their own columns for ``view`` (forgotten when it is
    deleted): a delete's confirmation says so."""
    table = list_view_preferences.c
    query = sa.select(sa.func.count()).where(
        table.tenant_id == access.actor.tenant_id,
        table.object_id == obj.id,
        table.view == view.api_name.lower(),
    )
    if not view.shared:
        query = query.where(table.user_id == access.actor.user_id)
    return int(connection.execute(query).scalar_one())


def _audit(
    connection: Connection, actor: Actor, obj: ObjectSchema, view: ListView, change: str
) -> None:
    if view.shared:
        record_audit(
            connection,
            actor,
            "metadata.changed",
            target_type="list_view",
            target_id=f"{obj.api_name}.{view.api_name}",
            details={"change": change},
        )


# -- each user's columns for a view ------------------------------------------------------
def _choice_of(
    actor: Actor, obj: ObjectSchema, view_name: str
) -> tuple[sa.ColumnElement[bool], ...]:
    table = list_view_preferences.c
    return (
        table.tenant_id == actor.tenant_id,
        table.object_id == obj.id,
        table.view == view_name.lower(),
        table.user_id == (actor.user_id or NOBODY),
    )


def _readable_choice(
    obj: ObjectSchema, access: Access, stored: list[dict[str, Any]] | None
) -> tuple[ViewColumn, ...] | None:
    if not stored:
        return None
    columns = tuple(
        ViewColumn(path, column.get("width"))
        for column in stored
        if (path := readable_path(obj, access.schema, access, column.get("field"))) is not None
    )
    return columns or None


def save_column_choice(
    connection: Connection, access: Access, obj: ObjectSchema, view_name: str, raw: Any
) -> tuple[ViewColumn, ...]:
    """Remember the reader's columns for a view (checked like a view's columns)."""
    actor = access.actor
    if actor.user_id is None:
        raise BadRequest("Column choices belong to a user; this actor has none.")
    find_view(connection, access, obj, view_name)
    errors: dict[str, list[str]] = {}
    columns = parse_columns(obj, access.schema, access, raw, errors)
    if errors:
        raise BadRequest("The columns are invalid.", code="invalid_list_view", fields=errors)
    upsert = insert(list_view_preferences).values(
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        object_id=obj.id,
        view=view_name.lower(),
        columns=[column.to_json() for column in columns],
    )
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["tenant_id", "user_id", "object_id", "view"],
            set_={"columns": upsert.excluded.columns, "updated_at": sa.func.now()},
        )
    )
    list_view_cache.changed(connection, actor.tenant_id)
    return columns


def forget_column_choice(
    connection: Connection, access: Access, obj: ObjectSchema, view_name: str
) -> None:
    connection.execute(
        list_view_preferences.delete().where(*_choice_of(access.actor, obj, view_name))
    )
    list_view_cache.changed(connection, access.actor.tenant_id)
