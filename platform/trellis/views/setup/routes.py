"""Setup's blueprint with every screen's routes on it: each module listed here adds its
routes when imported and declares its sidebar sections, so this is the one list of
Setup's screens."""

from __future__ import annotations

from trellis.actor import Actor
from trellis.views.setup import (
    api_access,
    audit_trail,
    automation_form,
    automations,
    explain,
    field_delete,
    fields,
    formulas,
    groups,
    layouts,
    list_views,
    object_detail,
    objects,
    overview,
    packages,
    permission_set_fields,
    permission_sets,
    revisions,
    roles,
    run_log,
    sharing,
    sharing_rules,
    tokens,
    user_actions,
    user_form,
    users,
    validation_rules,
    webhooks,
)
from trellis.views.setup.screen import blueprint
from trellis.views.setup.sections import GROUPS, Section, may_open_setup, sections_for

SCREENS = (
    overview,
    objects,
    object_detail,
    fields,
    field_delete,
    layouts,
    list_views,
    validation_rules,
    automations,
    automation_form,
    run_log,
    users,
    user_form,
    user_actions,
    groups,
    roles,
    permission_sets,
    permission_set_fields,
    sharing,
    sharing_rules,
    explain,
    audit_trail,
    formulas,
    revisions,
    packages,
    tokens,
    api_access,
    webhooks,
)
SECTIONS: tuple[Section, ...] = tuple(section for module in SCREENS for section in module.SECTIONS)


def grouped_sections(actor: Actor) -> list[tuple[str, list[Section]]]:
    """The sections ``actor`` may use, by group, leaving out empty groups."""
    mine = sections_for(SECTIONS, actor)
    groups = [(group, [section for section in mine if section.group == group]) for group in GROUPS]
    return [(group, sections) for group, sections in groups if sections]


@blueprint.app_context_processor
def setup_context() -> dict[str, object]:
    return {"may_open_setup": may_open_setup, "setup_sections": grouped_sections}


__all__ = ["SECTIONS", "blueprint"]
