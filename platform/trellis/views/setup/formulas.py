"""The formula editor's data, as JSON for its script (ui_templates/static/formula_editor.js):
the functions of the formula language, an object's fields for the field picker (a lookup's
target named, so the picker can open it and offer ``Account.Owner.Email``), and the
records of an object for the Try it panel's type-ahead. The editor serves every Setup
screen with a formula, so any of Setup's rights opens the functions and fields, and any
right whose screens take a formula (FORMULA_RIGHTS) the records to try one on."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from trellis.metadata.access_documents import FORMULA_RIGHTS
from trellis.metadata.compiled import ObjectSchema, TenantSchema
from trellis.metadata.user_paths import OWNER_PATH, owner_target
from trellis.rule_engine import builtin_registry
from trellis.rule_engine.functions import catalogue
from trellis.rule_engine.kinds import kind_of_field_type
from trellis.views.lookup_options import matching_records
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section

SECTIONS: tuple[Section, ...] = ()
# The record's own columns a formula may read, as the picker offers them.
SYSTEM_FIELDS = (
    ("id", "Record ID", "text"),
    ("created_at", "Created at", "datetime"),
    ("updated_at", "Last modified at", "datetime"),
    ("owner_id", "Owner ID", "text"),
)


def _label(obj: ObjectSchema) -> str:
    return str(obj.definition.get("label") or obj.api_name)


def picker_fields(schema: TenantSchema, obj: ObjectSchema) -> list[dict[str, Any]]:
    """The fields of ``obj`` a formula may read: name, label, formula type and, for a
    lookup (or the record's ``Owner``), the object it leads to."""
    found: list[dict[str, Any]] = []
    for name, field in sorted(obj.fields.items(), key=lambda item: item[0].lower()):
        formula_type = field.type.formula_type(field.definition)
        if kind_of_field_type(formula_type) is None:
            continue  # a type formulas cannot read
        target = None
        if field.type.references_records:
            target_obj = schema.objects.get(str(field.definition.get("target", "")).lower())
            target = target_obj.api_name if target_obj is not None else None
        found.append(
            {
                "name": name,
                "label": str(field.definition.get("label") or name),
                "type": formula_type,
                "target": target,
            }
        )
    owner = owner_target(schema, obj)
    if owner is not None:
        found.append(
            {"name": OWNER_PATH, "label": "Owner", "type": "lookup", "target": owner.api_name}
        )
    found.extend(
        {"name": name, "label": label, "type": kind, "target": None}
        for name, label, kind in SYSTEM_FIELDS
    )
    return found


@blueprint.get("/formulas/functions")
def formula_functions() -> ResponseReturnValue:
    """Every function of the workspace's formula language (plugins' included)."""
    with setup_screen(None, with_shell=False) as current:
        registry = current.schema.formulas.functions or builtin_registry()
        return jsonify({"data": catalogue(registry)})


@blueprint.get("/formulas/fields/<api_name>")
def formula_fields(api_name: str) -> ResponseReturnValue:
    with setup_screen(None, with_shell=False) as current:
        obj = current.schema.object(api_name)
        return jsonify(
            {
                "object": obj.api_name,
                "label": _label(obj),
                "data": picker_fields(current.schema, obj),
            }
        )


@blueprint.get("/formulas/records/<api_name>")
def formula_records(api_name: str) -> ResponseReturnValue:
    """Records of the object to try a formula on, by name, through the access gate."""
    with setup_screen(FORMULA_RIGHTS, with_shell=False) as current:
        obj = current.schema.object(api_name)
        options, more = matching_records(current, obj, request.args.get("q", ""))
        return jsonify(
            {
                "data": [{"id": option.value, "name": option.label} for option in options],
                "more": more,
            }
        )
