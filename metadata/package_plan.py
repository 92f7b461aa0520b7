"""The plan an import returns (one entry per object: its action and diff), in a fixed order
and as text for the command line.
"""

from __future__ import annotations

from typing import Any

_DIFF_ORDER = {
    "object created": 0,
    "object property": 1,
    "field added": 2,
    "field removed": 3,
    "field property": 4,
}


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


def sorted_diff(diff: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        diff,
        key=lambda item: (
            _DIFF_ORDER.get(item["change"], 9),
            item.get("field", ""),
            item.get("property", ""),
        ),
    )
