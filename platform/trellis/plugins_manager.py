"""The plugin manager: built-in plugins first, then third-party entry points."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType

import pluggy

from trellis import hookspecs

# Built-in behaviour, registered exactly like a third-party plugin would be.
DEFAULT_PLUGINS = (
    "trellis.plugins.core_routes",
    "trellis.access.hooks",
    "trellis.records.search_reindex",
    "trellis.access.tasks",
    "trellis.api.idempotency_tasks",
    "trellis.runtime.tasks",
    "trellis.outbox.tasks",
    "trellis.automation.tasks",
    "trellis.imports.tasks",
    "trellis.automation.lifecycle",
    "trellis.plugins.automation_actions",
    "trellis.webhooks.tasks",
    "trellis.plugins.field_types",
    "trellis.plugins.formula_functions",
)


def build_plugin_manager(
    extra: Iterable[object | str] = (), load_entry_points: bool = True
) -> pluggy.PluginManager:
    manager = pluggy.PluginManager("trellis")
    manager.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(name), name=name)
    if load_entry_points:
        manager.load_setuptools_entrypoints("trellis")
    for plugin in extra:
        module: object = importlib.import_module(plugin) if isinstance(plugin, str) else plugin
        manager.register(
            module,
            name=getattr(module, "__name__", None) if isinstance(module, ModuleType) else None,
        )
    manager.check_pending()
    return manager
