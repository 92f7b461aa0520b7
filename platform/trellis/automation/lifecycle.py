"""The automation engine's part in saving records and metadata, through the same hooks
a plugin uses: before-save automations change a record inside its save, and an object's
automations are checked (and loops refused) when its metadata is saved."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from trellis.automation.actions import ActionCheck, action_checks
from trellis.automation.cycles import check_cycles
from trellis.automation.trigger_checks import trigger_checks, wait_checks
from trellis.automation.triggers import apply_before_save
from trellis.hookspecs import hookimpl
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.formulas import FormulaCompiler
from trellis.records.rules import RuleContext

Check = tuple[str, Callable[[], Any]]


@hookimpl
def before_record_save(
    context: RuleContext,
    obj: ObjectSchema,
    event_type: str,
    data: dict[str, Any],
    prior: Mapping[str, Any] | None,
    system: Mapping[str, Any],
) -> set[str]:
    return apply_before_save(context, obj, event_type, data, prior, system)


@hookimpl
def object_definition_checks(
    compiler: FormulaCompiler, obj: ObjectSchema, saved: ObjectSchema | None
) -> list[Check]:
    saved_automations = saved.definition.get("automations", []) if saved is not None else []
    checks: list[Check] = []
    for automation in obj.definition.get("automations", []):
        checks.extend(_automation_checks(compiler, obj, automation, saved_automations))
    return checks


@hookimpl
def check_object_change(schema: TenantSchema, api_name: str, saved: ObjectSchema | None) -> None:
    check_cycles(schema, api_name, saved)


def _automation_checks(
    compiler: FormulaCompiler,
    obj: ObjectSchema,
    automation: dict[str, Any],
    saved_automations: list[dict[str, Any]],
) -> list[Check]:
    place = f"automations.{automation['api_name']}"
    checks: list[Check] = []
    if automation.get("condition"):
        checks.append(
            (
                f"{place}.condition",
                partial(compiler.compile, obj, automation["condition"], expected_type="checkbox"),
            )
        )
    checks.extend(trigger_checks(compiler, obj, automation, place))
    checks.extend(wait_checks(obj, automation, place))
    stored = next(
        (a for a in saved_automations if a["api_name"].lower() == automation["api_name"].lower()),
        None,
    )
    checks.extend(
        action_checks(
            ActionCheck(compiler, obj, automation, stored),
            place,
            saved=automation in saved_automations,
        )
    )
    return checks
