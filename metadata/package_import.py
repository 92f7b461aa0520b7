"""Import of a package: the tenant's objects made to match it through :class:`MetadataService`
(validation, data-loss checks, revisions), all or nothing.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from trellis.errors import TrellisError, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.documents import diff_definitions, validate_object
from trellis.metadata.package_export import without_server_keys
from trellis.metadata.package_format import check_document, package_objects
from trellis.metadata.package_order import creation_order, skeleton_definition
from trellis.metadata.package_plan import sorted_diff
from trellis.metadata.secrets import keep_secrets, redact_diff
from trellis.metadata.service import MetadataService


def import_package(
    service: MetadataService,
    package: Any,
    *,
    dry_run: bool = False,
    force: bool = False,
    message: str = "",
) -> list[dict[str, Any]]:
    """Make the tenant's objects match the package; return the plan, one entry per object.

    Each entry is ``{"object", "action": create|update|unchanged, "diff"}``. Objects
    the tenant has but the package lacks are left alone; fields an object lacks are
    hidden by the service, never dropped. New objects are created after the objects they
    point at; when they point at each other (lookups, roll-ups, formulas), the first
    ones are created without those parts, which are added once the others exist.

    Idempotent: what already matches is left alone and no revision is written for it.
    A masked action secret (see :mod:`trellis.metadata.secrets`) keeps the secret stored
    for the same automation and action position; where none is stored (another tenant,
    a new action) the import is refused with a field error naming each masked secret, so
    a secret is never silently replaced or wiped. It runs in a SAVEPOINT, so any error
    imports nothing and a dry run is the real import, rolled back.
    """
    service.actor.require_right("import")
    check_document(package)
    definitions = package_objects(package)
    connection = service.connection
    savepoint = connection.begin_nested()
    try:
        plan = _apply(
            service, definitions, force=force, message=message or "Import metadata package"
        )
    except Exception:
        savepoint.rollback()
        _refresh_cache(service)
        raise
    if dry_run:
        savepoint.rollback()
        _refresh_cache(service)
    else:
        savepoint.commit()
    return plan


def _apply(
    service: MetadataService, definitions: list[dict[str, Any]], *, force: bool, message: str
) -> list[dict[str, Any]]:
    existing = service.schema().objects
    known = [obj.api_name for obj in existing.values()] + [d["api_name"] for d in definitions]
    normalized = _validate_all(service, definitions, existing, known)
    results: dict[str, dict[str, Any]] = {}
    # Definitions still to apply in full: (name, definition, stored definition or None).
    pending: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for definition, blocked in creation_order(
        [d for d in normalized if d["api_name"].lower() not in existing]
    ):
        name = definition["api_name"]
        created = None
        if not blocked:
            created, _ = _attempt(
                service,
                functools.partial(
                    service.create_object, definition, message=f"{message}: create {name}"
                ),
            )
        if created is None:
            # Create what cannot fail for want of other objects now, the rest once they exist.
            with _naming(name):
                created = service.create_object(
                    skeleton_definition(service, definition, blocked),
                    message=f"{message}: create {name}",
                )
            pending.append((name, definition, None))
        results[name.lower()] = {"action": "create", "after": created.definition}
    for definition in normalized:
        current = existing.get(definition["api_name"].lower())
        if current is not None:
            results[current.api_name.lower()] = {"action": "unchanged", "after": current.definition}
            pending.append((current.api_name, definition, current.definition))
    _apply_in_full(service, pending, results, force=force, message=message)
    plan = []
    for definition in normalized:
        result = results[definition["api_name"].lower()]
        diff = (
            []
            if result["action"] == "unchanged"
            else redact_diff(
                service.schema().actions, diff_definitions(result.get("before"), result["after"])
            )
        )
        plan.append(
            {
                "object": result["after"]["api_name"],
                "action": result["action"],
                "diff": sorted_diff(diff),
            }
        )
    return plan


def _apply_in_full(
    service: MetadataService,
    pending: list[tuple[str, dict[str, Any], dict[str, Any] | None]],
    results: dict[str, dict[str, Any]],
    *,
    force: bool,
    message: str,
) -> None:
    """Replace each pending object with its full definition.

    A formula or roll-up may need another pending object first, so failures are retried
    while others make progress. When nothing moves, the new objects get their plain
    fields and every lookup first (which needs nothing but objects that now exist), and
    the retries go on; an error that no order can fix is raised.
    """
    structured = False
    while pending:
        failures: list[tuple[str, TrellisError]] = []
        remaining = []
        for name, definition, stored in pending:
            verb = "update" if stored is not None else "complete"
            replaced, error = _attempt(
                service,
                functools.partial(
                    _replace_if_changed,
                    service,
                    name,
                    definition,
                    force=force,
                    message=f"{message}: {verb} {name}",
                ),
            )
            if error is not None:
                failures.append((name, error))
                remaining.append((name, definition, stored))
            elif replaced is not None and stored is not None:
                results[name.lower()] = {
                    "action": "update",
                    "before": stored,
                    "after": replaced.definition,
                }
            elif replaced is not None:
                results[name.lower()]["after"] = replaced.definition
        if len(remaining) == len(pending):
            if structured or all(stored is not None for _, _, stored in remaining):
                name, error = failures[0]
                with _naming(name):
                    raise error
            structured = True
            for name, definition, stored in remaining:
                if stored is None:
                    with _naming(name):
                        _replace_if_changed(
                            service,
                            name,
                            skeleton_definition(service, definition, set()),
                            force=force,
                            message=f"{message}: add fields to {name}",
                        )
        pending = remaining


def _replace_if_changed(
    service: MetadataService, name: str, definition: dict[str, Any], *, force: bool, message: str
) -> ObjectSchema | None:
    """Replace an object, or return None (writing nothing) when that would store what is
    already there. Comparing what the service stores covers every normalisation it does."""
    current = service.get_object(name).definition
    savepoint = service.connection.begin_nested()
    try:
        replaced = service.replace_object(name, definition, force=force, message=message)
    except Exception:
        savepoint.rollback()
        _refresh_cache(service)
        raise
    if _comparable(replaced.definition) == _comparable(current):
        savepoint.rollback()
        _refresh_cache(service)
        return None
    savepoint.commit()
    return replaced


def _attempt(
    service: MetadataService, change: Callable[[], ObjectSchema | None]
) -> tuple[Any, TrellisError | None]:
    """Run one change in a savepoint: ``(result, None)``, or ``(None, error)`` with the
    change undone."""
    savepoint = service.connection.begin_nested()
    try:
        result = change()
    except TrellisError as error:
        savepoint.rollback()
        _refresh_cache(service)
        return None, error
    savepoint.commit()
    return result, None


def _validate_all(
    service: MetadataService,
    definitions: list[dict[str, Any]],
    existing: dict[str, ObjectSchema],
    known: list[str],
) -> list[dict[str, Any]]:
    """Validate every object up front so that one error report names every problem."""
    errors: dict[str, list[str]] = {}
    normalized = []
    for definition in definitions:
        name = definition["api_name"]
        current = existing.get(name.lower())
        if current is not None and current.api_name != name:
            errors[f"{name}.api_name"] = [
                f"The tenant spells this object {current.api_name}; "
                "an object's api_name cannot change."
            ]
            continue
        try:
            # A masked secret must be backed by a stored one; say so now, by name.
            definition = keep_secrets(
                service.schema().actions, definition, current.definition if current else None
            )
            normalized.append(validate_object(definition, service.registry, known_objects=known))
        except TrellisError as error:
            for key, messages in error.fields.items():
                errors[f"{name}.{key}"] = messages
    if errors:
        objects = sorted({key.split(".", 1)[0] for key in errors})
        raise ValidationError(f"The package is invalid; see {', '.join(objects)}.", fields=errors)
    return normalized


def _comparable(definition: dict[str, Any]) -> tuple[Any, ...]:
    """What two definitions must share to store the same thing (hidden fields may sit
    anywhere in the list)."""
    fields = [without_server_keys(field) for field in definition["fields"]]
    active = [field for field in fields if not field.get("deleted")]
    hidden = {field["api_name"]: field for field in fields if field.get("deleted")}
    rest = {key: value for key, value in without_server_keys(definition).items() if key != "fields"}
    return rest, active, hidden


@contextlib.contextmanager
def _naming(object_name: str) -> Iterator[None]:
    """Re-raise a service error with the object's name on its message and fields."""
    try:
        yield
    except TrellisError as error:
        error.fields = {
            f"{object_name}.{key}": messages for key, messages in error.fields.items()
        } or {object_name: [error.message]}
        error.message = f"{object_name}: {error.message}"
        error.args = (error.message,)
        raise


def _refresh_cache(service: MetadataService) -> None:
    # Revision numbers come back after a rollback, and the cache is keyed by them:
    # rebuild now so that the rolled-back state can never be served as the real one.
    service.cache.get(service.connection, service.actor.tenant_id)
