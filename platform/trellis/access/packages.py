"""Roles and permission sets in metadata packages, imported through the same service as
the API, so each change is validated, versioned and rebuilds the closure. Roles go in
before the objects (whose sharing rules name roles) and permission sets after them (they
name objects and fields). Unchanged documents are left alone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection

from trellis.access.definitions import AccessDefinitions
from trellis.actor import Actor
from trellis.errors import NotFound
from trellis.metadata.compiled import MetadataCache
from trellis.metadata.documents import diff_definitions
from trellis.metadata.package_format import ACCESS_KINDS, check_document, package_objects
from trellis.metadata.package_import import import_package
from trellis.metadata.service import MetadataService


def import_with_access(
    service: MetadataService,
    package: Any,
    *,
    dry_run: bool = False,
    force: bool = False,
    message: str = "",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Import a whole package, all or nothing: roles, then the objects, then the
    permission sets. The object plan and the access plan; a dry run is the real import,
    rolled back. The package's shape is checked before anything is written."""
    service.actor.require_right("import")
    check_document(package)
    package_objects(package)
    args = (service.connection, service.actor, service.cache, package)
    with all_or_nothing(service, dry_run=dry_run):
        roles = import_access(*args, key="roles")
        plan = import_package(service, package, force=force, message=message)
        permission_sets = import_access(*args, key="permission_sets")
    return plan, roles + permission_sets


@contextlib.contextmanager
def all_or_nothing(service: MetadataService, *, dry_run: bool = False) -> Iterator[None]:
    """Run the enclosed imports in one savepoint: rolled back on an error, and after a
    dry run, which is the real import undone."""
    savepoint = service.connection.begin_nested()
    try:
        yield
    except Exception:
        savepoint.rollback()
        service.schema()  # rolled-back revisions never serve from the cache
        raise
    if dry_run:
        savepoint.rollback()
        service.schema()
    else:
        savepoint.commit()


def import_access(
    connection: Connection, actor: Actor, cache: MetadataCache, package: Any, *, key: str
) -> list[dict[str, Any]]:
    """Make the tenant's documents under ``key`` (``roles`` or ``permission_sets``) match
    the package's, whose shape :func:`package_objects` has checked; the plan, one entry
    per document: ``{"kind", "api_name", "action": create|update|unchanged, "diff"}``,
    the diff as :func:`diff_definitions` writes it (empty when unchanged)."""
    kind = ACCESS_KINDS[key]
    definitions = AccessDefinitions(connection, actor, cache)
    documents = package.get(key) or []
    if kind == "role":
        documents = _parents_first(documents)
    plan = []
    for document in documents:
        name = document["api_name"]
        try:
            current: dict[str, Any] | None = definitions.get(kind, name)
        except NotFound:
            current = None
        diff = [] if current == document else diff_definitions(current, document)
        if current == document:
            action = "unchanged"
        else:
            definitions.save(kind, None if current is None else name, document)
            action = "create" if current is None else "update"
        plan.append({"kind": kind, "api_name": name, "action": action, "diff": diff})
    return plan


def _parents_first(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roles ordered so each comes after the role above it (a loop keeps its order, and
    is refused when saved)."""
    by_name = {str(role["api_name"]).lower(): role for role in roles}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(role: dict[str, Any], trail: frozenset[str]) -> None:
        name = str(role["api_name"]).lower()
        if name in seen or name in trail:
            return
        parent = by_name.get(str(role.get("parent") or "").lower())
        if parent is not None:
            visit(parent, trail | {name})
        seen.add(name)
        ordered.append(role)

    for role in roles:
        visit(role, frozenset())
    return ordered
