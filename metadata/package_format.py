"""A metadata package as a document: ``{"trellis_package": 1, "objects": [...]}`` read from
and written as YAML or JSON, and its shape checked. Later kinds (rules, automations, layouts)
get a top-level key each.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from trellis.errors import BadRequest, ValidationError

PACKAGE_VERSION = 1
PACKAGE_KINDS = ("objects", "roles", "permission_sets", "list_views")
# The package keys of access metadata, by the kind meta_access stores them under.
ACCESS_KINDS = {"roles": "role", "permission_sets": "permission_set"}
#: Optional top-level keys that describe the package and are not applied.
DESCRIPTIVE_KEYS = ("name", "description")
MAX_OBJECTS = 1000
#: Nodes a parsed package may have (YAML aliases can make a small text expand hugely).
MAX_NODES = 1_000_000
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


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
    check_document(document)
    return document


def dump_package(package: dict[str, Any], format: str = "yaml") -> str:
    """The package as text; the same package always gives the same bytes."""
    if format == "json":
        return json.dumps(package, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(
        package, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


def check_document(document: Any) -> None:
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


def package_objects(package: Any) -> list[dict[str, Any]]:
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
    for key in ACCESS_KINDS:
        documents = package.get(key, [])
        if not isinstance(documents, list) or not all(
            isinstance(d, dict) and isinstance(d.get("api_name"), str) for d in documents
        ):
            errors[key] = ["A list of definitions, each with an api_name."]
    views = package.get("list_views", [])
    if not isinstance(views, list) or not all(
        isinstance(v, dict)
        and isinstance(v.get("object"), str)
        and isinstance(v.get("api_name"), str)
        for v in views
    ):
        errors["list_views"] = ["A list of shared list views, each with an object and an api_name."]
    if errors:
        raise ValidationError("The package is invalid.", fields=errors)
    return objects
