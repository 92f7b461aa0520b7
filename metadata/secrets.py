"""Write-only action properties: a webhook's signing secret, a plugin's token.

An action type names its secret properties (:attr:`ActionType.secrets`). Every way
metadata leaves Trellis — the automations and objects API, revision diffs, metadata
packages, import plans — passes the definition through :func:`redact_definition` (or
:func:`redact_diff`, :func:`redact_changes`), which puts :data:`SECRET_MASK` in place of
each secret's value. The key stays, so a client can tell that a secret is set, as it
can from a webhook subscription's ``secret`` being accepted but never shown.

Coming back, :func:`keep_secrets` runs before a definition is validated: a secret left
out, or sent back as the mask, keeps the value stored for the same action (same
automation, same position, same type), so an administrator can GET an automation,
change its label and PUT it back. ``null`` removes an optional secret. A mask with no
stored secret behind it (a new action, a package from another tenant) is refused with
a field error: a secret is never silently replaced by the mask, nor dropped.

An action type no longer installed cannot say which properties are secret, so all its
text properties are masked: it does not run anyway, and failing closed leaks nothing.
"""

from __future__ import annotations

from typing import Any

from trellis.errors import ValidationError
from trellis.metadata.documents import builtin_action_names

SECRET_MASK = "********"


def secret_properties(registry: Any, action: Any) -> tuple[str, ...] | None:
    """The secret properties of ``action``'s type; None when its type is not installed
    (and is not a built-in the registry does not run, such as ``wait``)."""
    name = action.get("type") if isinstance(action, dict) else None
    action_type = registry.get(name) if registry is not None and isinstance(name, str) else None
    if action_type is not None:
        return tuple(action_type.secrets)
    return () if name in builtin_action_names() else None


# -- output ----------------------------------------------------------------------------------
def redact_action(registry: Any, action: Any) -> Any:
    secrets = secret_properties(registry, action)
    if not isinstance(action, dict) or secrets == ():
        return action
    return {
        key: SECRET_MASK
        if (key in secrets if secrets is not None else key != "type" and isinstance(value, str))
        else value
        for key, value in action.items()
    }


def redact_automation(registry: Any, automation: Any) -> Any:
    if not isinstance(automation, dict) or not isinstance(automation.get("actions"), list):
        return automation
    return {
        **automation,
        "actions": [redact_action(registry, action) for action in automation["actions"]],
    }


def redact_automations(registry: Any, automations: Any) -> Any:
    if not isinstance(automations, list):
        return automations
    return [redact_automation(registry, automation) for automation in automations]


def redact_definition(registry: Any, definition: Any) -> Any:
    """An object definition as it may be shown: every action secret masked."""
    if not isinstance(definition, dict) or "automations" not in definition:
        return definition
    return {**definition, "automations": redact_automations(registry, definition["automations"])}


def redact_diff(registry: Any, diff: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Diff items (:func:`trellis.metadata.documents.diff_definitions`) as they may be
    shown: the old and new automations of an ``automations`` change masked."""
    return [
        {
            **item,
            "old": redact_automations(registry, item.get("old")),
            "new": redact_automations(registry, item.get("new")),
        }
        if item.get("property") == "automations" and "field" not in item
        else item
        for item in diff
    ]


def redact_changes(registry: Any, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A revision's stored changes (before, after, diff per object) as they may be shown."""
    return [
        {
            **change,
            "before": redact_definition(registry, change.get("before")),
            "after": redact_definition(registry, change.get("after")),
            "diff": redact_diff(registry, change.get("diff", [])),
        }
        for change in changes
    ]


# -- input -----------------------------------------------------------------------------------
def keep_secrets(registry: Any, definition: Any, stored: dict[str, Any] | None) -> Any:
    """``definition`` with each omitted or masked secret taken from ``stored`` (the object
    as saved; None for a new one); a :class:`ValidationError` for a mask nothing backs.

    Runs before validation, so anything malformed is passed through for the validator
    to describe."""
    if not isinstance(definition, dict) or not isinstance(definition.get("automations"), list):
        return definition
    saved = {
        automation["api_name"].lower(): automation
        for automation in (stored or {}).get("automations", [])
    }
    errors: dict[str, list[str]] = {}
    automations = []
    for automation in definition["automations"]:
        name = automation.get("api_name") if isinstance(automation, dict) else None
        if not isinstance(name, str) or not isinstance(automation.get("actions"), list):
            automations.append(automation)
            continue
        previous = saved.get(name.lower(), {}).get("actions", [])
        actions = [
            _keep_action_secrets(
                registry,
                action,
                previous[index] if index < len(previous) else None,
                f"automations.{name}.actions.{index}",
                errors,
            )
            for index, action in enumerate(automation["actions"])
        ]
        automations.append({**automation, "actions": actions})
    if errors:
        raise ValidationError("Some secrets are missing.", fields=errors)
    return {**definition, "automations": automations}


def _keep_action_secrets(
    registry: Any, action: Any, old: Any, place: str, errors: dict[str, list[str]]
) -> Any:
    if not isinstance(action, dict):
        return action
    secrets = secret_properties(registry, action)
    # A type not installed had all its text masked: any of it may come back masked.
    masked = secrets if secrets is not None else tuple(key for key in action if key != "type")
    same = isinstance(old, dict) and old.get("type") == action.get("type")
    kept = dict(action)
    for key in masked:
        declared = key in (secrets or ())
        value = action.get(key, SECRET_MASK if declared else None)
        if value is None and declared and key in action:
            del kept[key]  # null removes an optional secret
        elif value != SECRET_MASK:
            continue
        elif same and key in old:
            kept[key] = old[key]
        elif key in action:
            errors[f"{place}.{key}"] = [
                f"No {key} is stored for this action to keep; send the {key} itself."
            ]
    return kept
