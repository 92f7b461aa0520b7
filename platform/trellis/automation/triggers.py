"""Which automations an event triggers, and before-save field updates.

Before-save automations change the record being saved inside the save transaction,
with no second save; after-save ones are found here by the dispatcher and run later.
A trigger with ``only_when_changed_to_meet`` fires on the transition into its
condition, not on every save while the condition holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.field_types import FieldValueError
from trellis.outbox.consumers import condition_met
from trellis.records.rules import RuleContext, storable
from trellis.rule_engine import FormulaError

TRIGGERS = {
    "record.created": {"created", "created_or_updated"},
    "record.updated": {"updated", "created_or_updated"},
    "record.deleted": {"deleted"},
}


def automations_for(obj: ObjectSchema, event_type: str, timing: str) -> list[dict[str, Any]]:
    """Active automations of ``obj`` for this event and timing, in run order."""
    automations = obj.definition.get("automations")
    if not automations:  # most objects: nothing to sort through on every write
        return []
    triggers = TRIGGERS.get(event_type, set())
    found = [
        automation
        for automation in automations
        if automation.get("active", True)
        and automation["timing"] == timing
        and automation["trigger"] in triggers
    ]
    return sorted(found, key=lambda a: (a.get("order", 0), a["api_name"]))


def apply_before_save(
    context: RuleContext,
    obj: ObjectSchema,
    event_type: str,
    data: dict[str, Any],
    prior: Mapping[str, Any] | None,
    system: Mapping[str, Any],
) -> set[str]:
    """Run before-save automations on ``data`` in place; return the fields they set."""
    changed: set[str] = set()
    for automation in automations_for(obj, event_type, "before_save"):
        view = context.view(obj, data, system)
        before = None if prior is None else context.view(obj, prior, system)
        if not condition_met(context, obj, automation, view, before):
            continue
        for action in automation["actions"]:
            for name, source in action.get("values", {}).items():
                field = obj.field(name)
                try:
                    value = context.evaluate(obj, source, view, prior=before, is_new=prior is None)
                    normalized = field.normalize(storable(value))
                except (FormulaError, FieldValueError) as error:
                    raise ValidationError(
                        f"Automation {automation['api_name']} could not set {field.api_name}.",
                        fields={field.api_name: [str(error)]},
                    ) from None
                if normalized is None or normalized == "" or normalized == []:
                    data.pop(field.api_name, None)
                else:
                    data[field.api_name] = normalized
                changed.add(field.api_name)
                view = context.view(obj, data, system)  # later values see earlier ones
    return changed
