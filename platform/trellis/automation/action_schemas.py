"""Each action type's JSON Schema, whole: the built-ins' from the object meta-schema
(with its ``$defs`` written in, a formula marked ``x-formula``), a plugin's from
:meth:`ActionType.json_schema`. Builders generate an action's form from these, and
:func:`action_errors` checks one action against its own schema, so a problem is named
at its property rather than as "not valid under any of the given schemas"."""

from __future__ import annotations

import dataclasses
from typing import Any

from trellis.metadata.documents import _schema_errors as schema_errors
from trellis.metadata.documents import object_meta_schema

FORMULA_REF = "#/$defs/formula"


@dataclasses.dataclass(frozen=True)
class ActionKind:
    """One action type as a builder offers it."""

    name: str
    label: str
    description: str
    schema: dict[str, Any]
    secrets: tuple[str, ...]


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by its definition."""
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    rest = {key: _resolve(value, defs) for key, value in node.items() if key != "$ref"}
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved = _resolve(defs[ref.removeprefix("#/$defs/")], defs)
        return {**resolved, **rest, **({"x-formula": True} if ref == FORMULA_REF else {})}
    return rest


def _builtin_schemas() -> dict[str, dict[str, Any]]:
    meta = object_meta_schema()
    defs = meta["$defs"]
    schemas = {}
    for branch in defs["action"]["oneOf"]:
        name = branch["properties"]["type"].get("const")
        if name is not None:
            schemas[name] = {"type": "object", **_resolve(branch, defs)}
    return schemas


def _label(name: str) -> str:
    """``update_fields``: "Update fields"; ``chat.post_message``: "Chat: post message"."""
    plugin, _, action = name.rpartition(".")
    words = action.replace("_", " ")
    return f"{plugin.replace('_', ' ').capitalize()}: {words}" if plugin else words.capitalize()


def action_kinds(registry: Any) -> dict[str, ActionKind]:
    """Every action type a new action may have, by name: the installed ones and the
    built-ins the engine runs itself (``wait``)."""
    builtins = _builtin_schemas()
    names = sorted(set(registry.names() if registry is not None else ()) | set(builtins))
    kinds = {}
    for name in names:
        action_type = registry.get(name) if registry is not None else None
        schema = builtins.get(name) or action_type.json_schema()  # type: ignore[union-attr]
        doc = (action_type.__doc__ or "") if action_type is not None else ""
        kinds[name] = ActionKind(
            name=name,
            label=_label(name),
            description=schema.get("description") or doc.strip().split("\n")[0],
            schema=schema,
            secrets=tuple(action_type.secrets) if action_type is not None else (),
        )
    return kinds


def action_errors(kind: ActionKind, action: dict[str, Any], where: str) -> dict[str, list[str]]:
    """Problems of ``action`` against its type's schema, keyed ``<where>.<property>``."""
    errors: dict[str, list[str]] = {}
    for key in kind.schema.get("required", ()):
        if key != "type" and key not in action:
            errors[".".join(part for part in (where, key) if part)] = ["Required."]
    # Missing properties are named above, one by one; the schema checks the rest.
    relaxed = {
        **kind.schema,
        "required": [key for key in kind.schema.get("required", ()) if key in action],
    }
    for key, messages in schema_errors(relaxed, action, where).items():
        errors.setdefault(key, []).extend(messages)
    return errors
