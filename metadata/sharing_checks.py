"""An object's sharing settings checked against the schema it is saved into: the parent
of a controlled-by-parent object and the roles its sharing rules name (criteria formulas
are checked with the object's other formulas)."""

from __future__ import annotations

from typing import Any

from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema, TenantSchema


def check_sharing(schema: TenantSchema, obj: ObjectSchema) -> None:
    """Raise a field-level :class:`ValidationError` for every sharing setting of ``obj``
    that cannot work in ``schema``."""
    definition = obj.definition
    errors: dict[str, list[str]] = {}
    if definition.get("sharing_model") == "controlled_by_parent":
        parent = obj.find(definition.get("sharing_parent") or "")
        if (
            parent is None
            or not parent.type.references_records
            or not parent.definition.get("required")
        ):
            errors["sharing_parent"] = [
                "Name a required lookup field: its record's access is this record's access."
            ]
        elif parent.definition["target"].lower() == obj.api_name.lower():
            errors["sharing_parent"] = ["A record cannot take its access from its own object."]
    elif definition.get("sharing_parent"):
        errors["sharing_parent"] = ["Only a controlled_by_parent object names a parent."]
    seen: set[str] = set()
    for index, rule in enumerate(definition.get("sharing_rules", [])):
        place = f"sharing_rules.{index}"
        if rule["name"].lower() in seen:
            errors.setdefault(f"{place}.name", []).append("Another rule has this name.")
        seen.add(rule["name"].lower())
        for side in ("owned_by", "share_with"):
            problem = _principal_problem(schema, rule.get(side))
            if problem:
                errors.setdefault(f"{place}.{side}", []).append(problem)
        # criteria formulas are checked with every other formula of the object
    if errors:
        raise ValidationError("The sharing settings are invalid.", fields=errors)


def _principal_problem(schema: TenantSchema, principal: dict[str, Any] | None) -> str | None:
    """Why a rule's principal names nobody it could (groups are data: any name is taken,
    and a group created later starts sharing at once)."""
    if principal is None:
        return None
    if ("group" in principal) == ("role" in principal):
        return "Name either a group or a role."
    if "group" in principal and "subordinates" in principal:
        return "Only a role has subordinates."
    if "role" in principal and schema.access.role(principal["role"]) is None:
        return f"No role {principal['role']!r}."
    return None
