"""Every plugin hook Trellis calls. Built-in behaviour uses these same hooks.

Plugins implement them with ``@trellis.hookimpl`` and are found through the
``trellis`` entry-point group. Each hook has a one-line docstring; a test fails
when one is missing.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("trellis")
hookimpl = pluggy.HookimplMarker("trellis")


@hookspec
def register_blueprints() -> list[Any]:
    """Return Flask blueprints (pages, API routes) to mount on the app."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands or groups to the ``trellis`` command line."""


@hookspec
def template_folders() -> list[str]:
    """Return folders of Jinja2 templates, searched before the built-in ones."""


@hookspec
def startup(app: Any) -> None:
    """Run once when an app has been created (configuration and database are ready)."""


@hookspec
def register_celery_tasks(celery: Any) -> None:
    """Define Celery tasks on the app's Celery instance."""


@hookspec
def event_consumers(config: Any) -> list[Any]:
    """Return outbox consumers (``trellis.outbox.consumers.EventConsumer``) of record events."""


@hookspec
def before_record_save(
    context: Any, obj: Any, event_type: str, data: dict[str, Any], prior: Any, system: Any
) -> set[str] | None:
    """Change a record about to be saved, in place and in its transaction; return the
    names of the fields changed."""


@hookspec
def object_definition_checks(compiler: Any, obj: Any, saved: Any) -> list[Any]:
    """Return ``(place, check)`` pairs run when an object's metadata is saved."""


@hookspec
def check_object_change(schema: Any, api_name: str, saved: Any) -> None:
    """Refuse (raise a ValidationError) a metadata change that breaks the tenant as a whole."""


@hookspec
def register_field_types(registry: Any) -> None:
    """Register field types (:class:`trellis.metadata.field_types.FieldType`) on the registry."""


@hookspec
def register_formula_functions(registry: Any) -> None:
    """Register formula functions on a :class:`trellis.rule_engine.FunctionRegistry`."""


@hookspec
def register_automation_actions(registry: Any) -> None:
    """Register automation action types (:class:`trellis.automation.actions.ActionType`)."""


@hookspec
def metadata_revision_recorded(
    connection: Any, actor: Any, revision: int, message: str, objects: list[str], schema: Any
) -> None:
    """Note a new metadata revision, in the transaction that records it."""
