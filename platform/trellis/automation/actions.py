"""Automation action types: the contract every action implements, and their registry.

The built-in actions (``update_fields``, ``create_record``, ``update_related``,
``send_email``, ``call_webhook``) are registered by the ``trellis.plugins.automation_actions``
plugin through the same ``register_automation_actions`` hook third parties use. An
action type says which properties it takes (a JSON Schema), how it is checked when an
automation is saved, which records it may write (for the static cycle check) and how it
runs.

Running follows the execution-key rule of :mod:`trellis.automation.execute`:
:meth:`ActionType.perform` is called inside the tenant transaction that also records the
action's key, so record writes commit exactly once. Work that leaves Trellis (an email,
an HTTP call) must not happen there: ``perform`` prepares it and returns a callable that
is invoked after the transaction, before the key is recorded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from trellis.actor import Actor
from trellis.config import Config
from trellis.errors import NotFound, TrellisError, ValidationError
from trellis.metadata.compiled import CompiledField, ObjectSchema, TenantSchema
from trellis.metadata.documents import builtin_action_names
from trellis.records.rules import RecordView, RuleContext
from trellis.records.service import RecordService

# Plugin action types are namespaced (``chat.post_message``): names without a dot are
# the built-ins the object meta-schema describes, so the two never collide.
PLUGIN_ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
# What a write does to a record, matched against the triggers it fires.
CREATED, UPDATED = "created", "updated"

Check = Callable[[], Any]


class ActionFailed(Exception):
    """An action could not complete; the run is retried."""


@dataclasses.dataclass
class ActionCheck:
    """What a definition-time check sees: the formula compiler of the metadata as it
    would be saved, the automation's object and the automation itself."""

    compiler: Any  # trellis.metadata.formulas.FormulaCompiler
    obj: ObjectSchema
    automation: dict[str, Any]
    #: The automation of the same name as it is stored now (None: a new automation).
    stored: dict[str, Any] | None = None

    @property
    def schema(self) -> TenantSchema:
        return self.compiler.schema

    def is_stored(self, action: dict[str, Any], key: str) -> bool:
        """Whether an action of ``action``'s type in the stored automation already has this
        value of ``key``: checks that ask the outside world (a URL's DNS) skip what passed
        them when it was saved, so editing something else never fails on them."""
        return any(
            stored.get("type") == action["type"]
            and key in stored
            and stored[key] == action.get(key)
            for stored in (self.stored or {}).get("actions", [])
        )

    def formula(
        self, source: str, *, expected_type: str | None = None, on: ObjectSchema | None = None
    ) -> Check:
        """A check compiling ``source`` over ``on`` (default: the automation's object)."""
        return lambda: self.compiler.compile(on or self.obj, source, expected_type=expected_type)

    def values(
        self, target: ObjectSchema, values: dict[str, str], *, on: ObjectSchema | None = None
    ) -> list[tuple[str, Check]]:
        """Checks of field-value formulas: each field writable on ``target``, each formula of
        the field's type, evaluated over ``on`` (default: the automation's object)."""
        from trellis.metadata.formula_checks import value_type

        checks: list[tuple[str, Check]] = []
        for name, source in values.items():
            field = target.find(name)
            if field is None or field.type.computed:
                checks.append(
                    (f".values.{name}", fail(f"{target.api_name} has no writable field {name!r}."))
                )
            else:
                checks.append(
                    (
                        f".values.{name}",
                        self.formula(source, expected_type=value_type(field), on=on),
                    )
                )
        return checks


def fail(message: str) -> Check:
    """A check that always fails with ``message``."""

    def check() -> Any:
        raise ValidationError(message, fields={"": [message]})

    return check


@dataclasses.dataclass
class ActionStep:
    """One action of one run, inside the tenant transaction that will record its key."""

    connection: Any
    schema: TenantSchema
    actor: Actor
    config: Config
    obj: ObjectSchema  # the triggering record's object
    context: RuleContext
    record: RecordView  # the triggering record as it is now
    chain: dict[str, Any]  # carried into the events of records written here
    run: Any  # the automation_runs row
    delivery_id: str  # stable across retries: "<run id>:<action index>"

    def evaluate(
        self, source: str, *, expected_type: str | None = None, view: RecordView | None = None
    ) -> Any:
        """A formula's value over ``view`` (default: the triggering record)."""
        view = view or self.record
        return self.context.evaluate(view.obj, source, view, expected_type=expected_type)

    def field_values(
        self, values: dict[str, str], view: RecordView | None = None
    ) -> dict[str, Any]:
        """Field-value formulas evaluated into values the records service accepts."""
        return {
            name: field_value(self.evaluate(source, view=view)) for name, source in values.items()
        }

    def records(self, obj: ObjectSchema) -> RecordService:
        """The records service for ``obj``, acting as the automation in this chain."""
        return RecordService(self.connection, self.actor, self.schema, obj, chain=self.chain)

    def write(self, operation: Callable[[], Any]) -> Any:
        """Run a records-service write, turning a refusal into :class:`ActionFailed`."""
        try:
            return operation()
        except NotFound as error:
            raise ActionFailed(error.message) from None
        except TrellisError as error:
            details = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.fields.items()
            )
            raise ActionFailed(f"{error.message} {details}".strip()) from None


class ActionType:
    """Base class of action types. Subclasses set ``name`` and override the hooks."""

    #: The ``type`` in action definitions (plugins: ``plugin.action``).
    name: ClassVar[str]
    #: JSON Schema ``properties`` of the action besides ``type``.
    properties: ClassVar[dict[str, Any]] = {}
    #: Properties an action of this type must have.
    required: ClassVar[tuple[str, ...]] = ()
    #: Write-only properties (signing secrets, tokens): never shown by the API, exports or
    #: revision diffs, and kept when an update leaves them out
    #: (see :mod:`trellis.metadata.secrets`).
    secrets: ClassVar[tuple[str, ...]] = ()

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema an action definition of this type must satisfy."""
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", *self.required],
            "properties": {"type": {"const": self.name}, **self.properties},
        }

    def checks(self, check: ActionCheck, action: dict[str, Any]) -> Iterable[tuple[str, Check]]:
        """Definition-time checks as (place suffix such as ``.values.Amount``, callable)
        pairs; a callable raises a formula error or :class:`ValidationError` to refuse."""
        return ()

    def writes(
        self, schema: TenantSchema, obj: ObjectSchema, action: dict[str, Any]
    ) -> list[tuple[str, str]]:
        """The records this action may write, as (object api_name, ``created`` or
        ``updated``) pairs: edges of the static automation-cycle check."""
        return []

    def perform(self, step: ActionStep, action: dict[str, Any]) -> Callable[[], None] | None:
        """Do the action inside the transaction; return work to do after it commits
        (anything leaving Trellis), or None. Raise :class:`ActionFailed` to retry."""
        raise NotImplementedError


class ActionRegistry:
    """Action types by name; filled through the ``register_automation_actions`` hook."""

    def __init__(self) -> None:
        self._types: dict[str, ActionType] = {}

    def register(self, action_type: ActionType) -> ActionType:
        name = getattr(action_type, "name", None)
        if not name:
            raise ValueError("an action type needs a name")
        if name not in builtin_action_names() and not PLUGIN_ACTION_NAME.fullmatch(name):
            raise ValueError(
                f"plugin action type {name!r} must be named 'plugin.action' (lower case, one dot)"
            )
        if name in self._types:
            raise ValueError(f"action type {name!r} is already registered")
        self._types[name] = action_type
        return action_type

    def get(self, name: str) -> ActionType | None:
        return self._types.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)


def field_value(value: Any) -> Any:
    """An engine result as a value the records service accepts."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def json_value(value: Any) -> Any:
    """An engine result as a JSON value (numbers as numbers)."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def lookup_to(obj: ObjectSchema, name: str, target: str) -> CompiledField | None:
    """``obj``'s lookup field ``name`` when it points at ``target``, else None."""
    field = obj.find(name)
    if (
        field is None
        or not field.type.references_records
        or field.definition["target"].lower() != target.lower()
    ):
        return None
    return field


def action_checks(check: ActionCheck, place: str, *, saved: bool) -> Iterable[tuple[str, Check]]:
    """Definition-time checks of every action of ``check.automation``.

    ``saved``: the automation is stored unchanged. An action type no longer installed
    is then let through (its runs fail with a clear error, and the rest of the object
    stays editable); a new or changed automation must name an installed type.
    """
    # The same JSON Schema error reporting as object definitions get.
    from trellis.metadata.documents import _schema_errors as schema_errors

    registry = check.schema.actions
    builtins = builtin_action_names()
    for index, action in enumerate(check.automation["actions"]):
        where = f"{place}.actions.{index}"
        action_type = registry.get(action["type"]) if registry is not None else None
        if action_type is None:
            # A built-in the registry does not run (``wait``) is checked by its own code.
            if action["type"] not in builtins and not saved:
                installed = ", ".join(registry.names()) if registry is not None else "none"
                yield (
                    f"{where}.type",
                    fail(f"Unknown action type {action['type']!r}; installed: {installed}."),
                )
            continue
        if action["type"] not in builtins:
            # Built-ins were validated by the object meta-schema; plugins declare their own.
            errors = schema_errors(action_type.json_schema(), action, where)
            if errors:
                yield where, _refuse(errors)
                continue
        for suffix, action_check in action_type.checks(check, action):
            yield where + suffix, action_check


def _refuse(errors: dict[str, list[str]]) -> Check:
    def check() -> Any:
        raise ValidationError("The action is invalid.", fields=errors)

    return check
