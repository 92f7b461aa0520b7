"""Static detection of automations that trigger each other in a loop.

The graph: an after-save automation points at every active after-save automation its
actions' writes would trigger (an ``update_related`` on Task fires Task's ``updated``
and ``created_or_updated`` automations; a ``create_record`` fires ``created`` ones).
A cycle in it means one save can set off a chain that comes back to where it started.
At run time the chain stops (an automation never runs twice on one record in one
chain, nor past ``automation_max_depth``), but a cycle with no guard — none of its
automations has a condition or ``only_when_changed_to_meet`` — does that wasted work
on every save, so it is refused when saved. A guarded cycle may be intended (the
condition ends it) and is reported as a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trellis.automation.triggers import automations_for
from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema, TenantSchema

Node = tuple[str, str]  # (object api_name, automation api_name)


def automation_graph(
    schema: TenantSchema,
) -> tuple[dict[Node, set[Node]], dict[Node, dict[str, Any]]]:
    """The edges between after-save automations, and each node's automation."""
    nodes: dict[Node, dict[str, Any]] = {}
    edges: dict[Node, set[Node]] = {}
    for obj in schema.objects.values():
        for automation in _after_save(obj):
            node = (obj.api_name, automation["api_name"])
            nodes[node] = automation
            edges[node] = set()
            for target, write in _writes(schema, obj, automation):
                target_obj = schema.objects.get(target.lower())
                if target_obj is None:
                    continue
                edges[node] |= {
                    (target_obj.api_name, triggered["api_name"])
                    for triggered in automations_for(target_obj, f"record.{write}", "after_save")
                }
    return edges, nodes


def cycles(schema: TenantSchema) -> list[list[Node]]:
    """Each loop of automations as a path that ends where it starts."""
    edges, _ = automation_graph(schema)
    found = []
    for component in _strongly_connected(edges):
        start = min(component)
        if len(component) > 1 or start in edges[start]:
            found.append(_path(edges, component, start))
    return found


def is_guarded(automation: dict[str, Any]) -> bool:
    return bool(automation.get("condition") or automation.get("only_when_changed_to_meet"))


def describe(path: list[Node]) -> str:
    return " → ".join(f"{obj}.{name}" for obj, name in path)


def check_cycles(schema: TenantSchema, object_name: str, saved: ObjectSchema | None) -> None:
    """Refuse a new or changed automation of ``object_name`` that closes an unguarded loop.

    Loops made only of automations saved before are left alone: editing something
    else on the object must not fail because of them.
    """
    _, nodes = automation_graph(schema)
    stored = {
        a["api_name"]: a
        for a in (saved.definition.get("automations", []) if saved is not None else [])
    }
    errors: dict[str, list[str]] = {}
    for path in cycles(schema):
        members = path[:-1]
        if any(is_guarded(nodes[node]) for node in members):
            continue
        changed = [
            name
            for obj, name in members
            if obj.lower() == object_name.lower() and stored.get(name) != nodes[(obj, name)]
        ]
        for name in changed:
            errors.setdefault(f"automations.{name}", []).append(
                f"These automations trigger each other in a loop: {describe(path)}. Every "
                "save would run them until the chain is stopped; give one of them a "
                "condition (or only_when_changed_to_meet), or use a before-save "
                "automation to change the saved record."
            )
    if errors:
        raise ValidationError(
            "Automations would trigger each other in a loop.",
            fields=errors,
            code="automation_cycle",
        )


def cycle_warnings(schema: TenantSchema, automation_name: str) -> list[str]:
    """Loops through ``automation_name`` that its conditions may end: worth a look."""
    return [
        f"These automations trigger each other in a loop: {describe(path)}. Their "
        "conditions must end it; otherwise each chain stops at the automation depth limit."
        for path in cycles(schema)
        if any(name.lower() == automation_name.lower() for _, name in path)
    ]


def _after_save(obj: ObjectSchema) -> list[dict[str, Any]]:
    return [
        automation
        for automation in obj.definition.get("automations", [])
        if automation.get("active", True) and automation["timing"] == "after_save"
    ]


def _writes(
    schema: TenantSchema, obj: ObjectSchema, automation: dict[str, Any]
) -> Iterable[tuple[str, str]]:
    for action in automation["actions"]:
        action_type = schema.actions.get(action["type"]) if schema.actions else None
        if action_type is not None:
            yield from action_type.writes(schema, obj, action)


def _strongly_connected(edges: dict[Node, set[Node]]) -> list[set[Node]]:
    """Tarjan's algorithm, iterative (a tenant may have many automations)."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    stack: list[Node] = []
    on_stack: set[Node] = set()
    components: list[set[Node]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _path(edges: dict[Node, set[Node]], component: set[Node], start: Node) -> list[Node]:
    """A shortest path from ``start`` back to itself inside ``component``."""
    previous: dict[Node, Node] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(edges[node] & component):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if successor not in previous:
                    previous[successor] = node
                    following.append(successor)
        frontier = following
    return [start, start]
