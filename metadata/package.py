"""Metadata as code: a tenant's objects as one YAML or JSON document, and back.

A package is ``{"trellis_package": 1, "objects": [<object definitions>]}``; later
kinds (rules, automations, layouts) get a top-level key each. Export writes the
definitions as stored, in a fixed key order, so that export → import → export is
byte-identical. Action secrets (a webhook's signing secret) are never exported: each is
written as the mask of :mod:`trellis.metadata.secrets`. Importing the package into the
tenant it came from keeps every stored secret (same automation, same action position);
where no secret is stored (another tenant, a new action) the import is refused with a
field error naming each masked secret, so a secret is never silently replaced or
wiped: put the real secret in the package to set it. Import goes through
:class:`MetadataService` (validation, data-loss checks, revisions) and is idempotent:
what already matches is left alone and no revision is written for it. It runs in a
SAVEPOINT, so a failure anywhere imports nothing and a dry run is the real import,
rolled back.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import yaml

from trellis.errors import BadRequest, TrellisError, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.documents import diff_definitions, object_meta_schema, validate_object
from trellis.metadata.secrets import keep_secrets, redact_definition, redact_diff
from trellis.metadata.service import MetadataService

PACKAGE_VERSION = 1
PACKAGE_KINDS = ("objects",)
#: Optional top-level keys that describe the package and are not applied.
DESCRIPTIVE_KEYS = ("name", "description")
MAX_OBJECTS = 1000
#: Nodes a parsed package may have (YAML aliases can make a small text expand hugely).
MAX_NODES = 1_000_000
#: Keys the API adds to definitions; they never belong in a package.
SERVER_ONLY_KEYS = frozenset({"id", "index"})
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")

OBJECT_KEY_ORDER = ("api_name", "label", "plural_label", "description", "name_field", "fields")
FIELD_KEY_ORDER = (
    "api_name",
    "type",
    "label",
    "help_text",
    "description",
    "required",
    "unique",
    "indexed",
    "read_only",
    "default",
)
CHOICE_KEY_ORDER = ("value", "label", "active")
#: Field properties naming another object: a lookup's target, a roll-up's child object.
REFERENCE_PROPERTIES = ("target", "summarized_object")
#: What an object is created with when the rest must wait for other objects.
SKELETON_KEYS = ("api_name", "label", "plural_label", "description", "name_field")
_DIFF_ORDER = {
    "object created": 0,
    "object property": 1,
    "field added": 2,
    "field removed": 3,
    "field property": 4,
}


# -- reading and writing documents ---------------------------------------------------------
class _PackageLoader(yaml.SafeLoader):
    """Safe YAML with JSON's scalars: only true/false are booleans and dates stay text, so
    a picklist value ``No`` or a default ``2026-01-31`` means what it says."""


_PackageLoader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern)
        for tag, pattern in resolvers
        if tag not in {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PackageLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_package(text: str | bytes, format: str = "yaml") -> dict[str, Any]:
    """Parse a package document; malformed text is a :class:`BadRequest` with its position."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The package is not UTF-8 text.", code="malformed_package") from None
    if format == "json":
        try:
            document = json.loads(text)
        except ValueError as error:
            raise BadRequest(
                f"The package is not valid JSON: {error}.", code="malformed_json"
            ) from None
        except RecursionError:
            raise BadRequest("The package is nested too deeply.", code="malformed_json") from None
    else:
        try:
            document = yaml.load(text, Loader=_PackageLoader)  # noqa: S506 - a SafeLoader
        except RecursionError:
            raise BadRequest("The package is nested too deeply.", code="malformed_yaml") from None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            raise BadRequest(
                f"The package is not valid YAML: {where}{error.problem}.", code="malformed_yaml"
            ) from None
        except yaml.YAMLError as error:
            raise BadRequest(
                f"The package is not valid YAML: {error}.", code="malformed_yaml"
            ) from None
    if not isinstance(document, dict):
        raise BadRequest(
            "A package is a mapping with trellis_package and objects.", code="malformed_package"
        )
    _check_document(document)
    return document


def dump_package(package: dict[str, Any], format: str = "yaml") -> str:
    """The package as text; the same package always gives the same bytes."""
    if format == "json":
        return json.dumps(package, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(
        package, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


def _check_document(document: Any) -> None:
    """Refuse what could only fail later: too many nodes (YAML aliases can make a small
    text expand hugely), and text PostgreSQL cannot store (NUL, unpaired surrogates)."""
    pending: list[tuple[str, Any]] = [("", document)]
    seen = 0
    unstorable: dict[str, list[str]] = {}
    while pending:
        path, node = pending.pop()
        seen += 1
        if seen > MAX_NODES:
            raise BadRequest("The package is too large.", code="package_too_large")
        if isinstance(node, dict):
            for key, value in node.items():
                pending.append((f"{path}.{key}" if path else str(key), value))
                if isinstance(key, str) and UNSTORABLE_TEXT.search(key):
                    unstorable[path or "package"] = ["A key has a NUL or invalid character."]
        elif isinstance(node, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), item) for index, item in enumerate(node)
            )
        elif isinstance(node, str) and UNSTORABLE_TEXT.search(node):
            unstorable[path or "package"] = ["Text cannot hold NUL or invalid Unicode."]
    if unstorable:
        raise ValidationError("Some text in the package cannot be stored.", fields=unstorable)


# -- export --------------------------------------------------------------------------------
def export_package(service: MetadataService) -> dict[str, Any]:
    """Every object of the tenant as stored, minus hidden fields and server-only keys."""
    service.actor.require_admin()
    schema = service.schema()
    objects = sorted(schema.objects.values(), key=lambda obj: obj.api_name.lower())
    return {
        "trellis_package": PACKAGE_VERSION,
        "objects": [export_definition(obj.definition, schema.actions) for obj in objects],
    }


def export_definition(definition: dict[str, Any], actions: Any) -> dict[str, Any]:
    """A definition as a package holds it; ``actions`` (the action registry) names the
    secrets to mask."""
    definition = redact_definition(actions, definition)
    fields = [
        _ordered(_without_server_keys(field), FIELD_KEY_ORDER)
        for field in definition["fields"]
        if not field.get("deleted")
    ]
    for field in fields:
        if isinstance(field.get("values"), list):
            field["values"] = [
                _ordered(value, CHOICE_KEY_ORDER) if isinstance(value, dict) else value
                for value in field["values"]
            ]
    return _ordered({**_without_server_keys(definition), "fields": fields}, OBJECT_KEY_ORDER)


def _without_server_keys(document: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in document.items()
        if key not in SERVER_ONLY_KEYS and not (key == "deleted" and value is False)
    }


def _ordered(document: dict[str, Any], order: Iterable[str]) -> dict[str, Any]:
    """Known keys in a readable order, then the rest alphabetically."""
    first = [key for key in order if key in document]
    rest = sorted(key for key in document if key not in first)
    return {key: document[key] for key in (*first, *rest)}


# -- import --------------------------------------------------------------------------------
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
    ones are created without those parts, which are added once the others exist. Any
    error imports nothing.
    """
    service.actor.require_admin()
    _check_document(package)
    definitions = _package_objects(package)
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


def plan_changed(plan: list[dict[str, Any]]) -> bool:
    return any(item["action"] != "unchanged" for item in plan)


def plan_report(plan: list[dict[str, Any]], *, dry_run: bool) -> list[str]:
    """The plan as text: a line per object and its action, one below it per change, and
    a summary."""
    lines = []
    for item in plan:
        lines.append(f"{item['action']:<10} {item['object']}")
        lines.extend(f"    {describe_change(change)}" for change in item["diff"])
    actions = [item["action"] for item in plan]
    words = (
        ("create", "to create" if dry_run else "created"),
        ("update", "to update" if dry_run else "updated"),
        ("unchanged", "unchanged"),
    )
    summary = (
        ", ".join(f"{actions.count(action)} {word}" for action, word in words if action in actions)
        or "empty package"
    )
    if dry_run:
        lines.append(f"Dry run ({summary}): nothing was changed.")
    elif plan_changed(plan):
        lines.append(f"Imported: {summary}.")
    else:
        lines.append(f"Nothing to change ({summary}).")
    return lines


def describe_change(item: dict[str, Any]) -> str:
    """One diff item as a line of text (for the command line)."""
    change = item["change"]
    if change == "object property":
        return f"{item['property']}: {item['old']!r} -> {item['new']!r}"
    if change == "field property":
        return f"{item['field']}.{item['property']}: {item['old']!r} -> {item['new']!r}"
    if change in {"field added", "field removed"}:
        return f"{change}: {item['field']}"
    return change


def _package_objects(package: Any) -> list[dict[str, Any]]:
    """Check the package's shape; return its object definitions."""
    if not isinstance(package, dict):
        raise ValidationError(
            "A package is a mapping with trellis_package and objects.",
            fields={"package": "Not a mapping."},
        )
    errors: dict[str, list[str]] = {}
    version = package.get("trellis_package")
    if version != PACKAGE_VERSION or isinstance(version, bool):
        errors["trellis_package"] = [f"Must be {PACKAGE_VERSION} (the package format version)."]
    unknown = sorted(
        str(key)
        for key in package
        if key not in {"trellis_package", *PACKAGE_KINDS, *DESCRIPTIVE_KEYS}
    )
    if unknown:
        errors["package"] = [
            f"Unknown keys: {', '.join(unknown)}; a package has "
            f"trellis_package and {', '.join(PACKAGE_KINDS)}."
        ]
    objects = package.get("objects", [])
    if not isinstance(objects, list):
        errors["objects"] = ["A list of object definitions."]
        objects = []
    elif len(objects) > MAX_OBJECTS:
        errors["objects"] = [f"At most {MAX_OBJECTS} objects per package."]
    seen: dict[str, str] = {}
    for position, definition in enumerate(objects):
        name = definition.get("api_name") if isinstance(definition, dict) else None
        if not isinstance(name, str) or not name:
            errors[f"objects.{position}"] = ["An object definition needs an api_name."]
        elif name.lower() in seen:
            errors[name] = [f"{name} appears twice in the package."]
        else:
            seen[name.lower()] = name
    if errors:
        raise ValidationError("The package is invalid.", fields=errors)
    return objects


def _apply(
    service: MetadataService, definitions: list[dict[str, Any]], *, force: bool, message: str
) -> list[dict[str, Any]]:
    existing = service.schema().objects
    known = [obj.api_name for obj in existing.values()] + [d["api_name"] for d in definitions]
    normalized = _validate_all(service, definitions, existing, known)
    results: dict[str, dict[str, Any]] = {}
    # Definitions still to apply in full: (name, definition, stored definition or None).
    pending: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for definition, blocked in _creation_order(
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
                    _skeleton(service, definition, blocked), message=f"{message}: create {name}"
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
                "diff": _sorted_diff(diff),
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
                            _skeleton(service, definition, set()),
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


def _creation_order(new: list[dict[str, Any]]) -> list[tuple[dict[str, Any], set[str]]]:
    """``(definition, objects it waits for)`` pairs, in an order where what an object
    refers to (lookup targets, roll-up children) is created before it when possible.

    When every remaining object waits for another (a cycle), the first one in package
    order that others wait for goes next, with the set of objects it still waits for.
    """
    pending = {d["api_name"].lower(): d for d in new}
    order: list[tuple[dict[str, Any], set[str]]] = []

    def waits_for(definition: dict[str, Any]) -> set[str]:
        return _references(definition) & (pending.keys() - {definition["api_name"].lower()})

    while pending:
        ready = next((d for d in pending.values() if not waits_for(d)), None)
        if ready is None:
            awaited = set().union(*(waits_for(d) for d in pending.values()))
            ready = next(d for d in pending.values() if d["api_name"].lower() in awaited)
        order.append((ready, waits_for(ready)))
        del pending[ready["api_name"].lower()]
    return order


def _references(definition: dict[str, Any]) -> set[str]:
    """Objects (lower-case) that fields of ``definition`` point at."""
    names = set()
    for field in definition["fields"]:
        for key in REFERENCE_PROPERTIES:
            if isinstance(field.get(key), str):
                names.add(field[key].lower())
    return names


def _skeleton(
    service: MetadataService, definition: dict[str, Any], missing: set[str]
) -> dict[str, Any]:
    """The part of a definition that needs nothing from other objects: no references to
    ``missing`` objects, no computed fields or formulas, no object-level rules."""
    formula_keys = {
        key
        for key, schema in object_meta_schema()["$defs"]["field_common"].items()
        if isinstance(schema, dict) and schema.get("$ref") == "#/$defs/formula"
    }
    fields = [
        {key: value for key, value in field.items() if key not in formula_keys}
        for field in definition["fields"]
        if not service.registry.get(field["type"]).computed
        and not ({str(field.get(key, "")).lower() for key in REFERENCE_PROPERTIES} & missing)
    ]
    skeleton = {key: definition[key] for key in SKELETON_KEYS if key in definition}
    skeleton["fields"] = fields
    if skeleton.get("name_field") not in {field["api_name"] for field in fields}:
        skeleton.pop("name_field", None)
    return skeleton


def _comparable(definition: dict[str, Any]) -> tuple[Any, ...]:
    """What two definitions must share to store the same thing (hidden fields may sit
    anywhere in the list)."""
    fields = [_without_server_keys(field) for field in definition["fields"]]
    active = [field for field in fields if not field.get("deleted")]
    hidden = {field["api_name"]: field for field in fields if field.get("deleted")}
    rest = {
        key: value for key, value in _without_server_keys(definition).items() if key != "fields"
    }
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


def _sorted_diff(diff: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        diff,
        key=lambda item: (
            _DIFF_ORDER.get(item["change"], 9),
            item.get("field", ""),
            item.get("property", ""),
        ),
    )
