"""The explanation of ``GET /api/v1/access/explain`` (trellis.access.explain) as steps a
person reads: the user's rights on the object, the org-wide default, each grant that
applies, and the verdict."""

from __future__ import annotations

import dataclasses
from typing import Any

from trellis.views.setup.sharing import MODELS

ACCESS_WORDS = {"all": "full access", "read": "read", "read_write": "read and edit"}


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    detail: str
    # "grant" (opens the record), "limit" (holds it back) or "info".
    tone: str = "info"


def principal_words(principal: str, emails: dict[str, str]) -> str:
    kind, _, name = principal.partition(":")
    if kind == "user":
        return emails.get(name, "a user")
    if kind == "group":
        return f"the group {name}"
    if kind == "role_and_subordinates":
        return f"the role {name} and the roles below it"
    return f"the role {name}"


def _grant(grant: dict[str, Any], emails: dict[str, str]) -> Step:
    kind, access = grant["kind"], ACCESS_WORDS.get(grant.get("access", ""), grant.get("access"))
    if kind == "administrator":
        return Step("Administrator", "Administrators reach every record.", "grant")
    if kind in {"modify_all", "view_all"}:
        right = "Modify all" if kind == "modify_all" else "View all"
        return Step(right, f"A permission set grants {right.lower()}: {access}.", "grant")
    if kind == "org_wide_default":
        return Step("Org-wide default", f"Everyone gets {access} on this object.", "grant")
    if kind == "owner":
        return Step("Owner", "The user owns the record.", "grant")
    if kind == "role_hierarchy":
        owner = emails.get(str(grant.get("owner")), "its owner")
        return Step("Role hierarchy", f"The record's owner, {owner}, is below the user.", "grant")
    if kind in {"sharing_rule", "manual_share"}:
        whom = principal_words(grant["principal"], emails)
        how = "as a member" if grant.get("through") == "membership" else "through someone below"
        title = f"Sharing rule {grant['rule']}" if kind == "sharing_rule" else "Manual share"
        return Step(title, f"Shared with {whom} ({how}): {access}.", "grant")
    if kind == "parent":
        return Step(
            "Controlled by parent",
            f"Access follows the parent {grant['object']} record "
            f"{grant.get('record') or '(none)'}.",
        )
    return Step(kind.replace("_", " ").capitalize(), str(grant))


def steps(explanation: dict[str, Any], emails: dict[str, str]) -> list[Step]:
    """The explanation's parts in the order the gate decides: rights, the default, the
    grants (or that none applies)."""
    rights = explanation["object_rights"]
    found = [
        Step(
            "Object rights",
            "Every right (administrator)."
            if rights == ["all"]
            else (
                f"Their permission sets grant {', '.join(r.replace('_', ' ') for r in rights)}."
                if rights
                else "Their permission sets grant no right on this object: it does not exist "
                "for them."
            ),
            "info" if rights else "limit",
        ),
        Step("Org-wide default", _model_words(explanation["sharing_model"])),
    ]
    grants = [g for g in explanation["grants"] if g["kind"] != "org_wide_default"]
    found += [_grant(grant, emails) for grant in explanation["grants"]]
    if not grants and explanation["sharing_model"] in {"private", "read"}:
        found.append(
            Step(
                "No grant",
                "They do not own it, nobody below them does, and nothing shares it with them.",
                "limit",
            )
        )
    return found


def _model_words(model: str) -> str:
    for key, label, hint in MODELS:
        if key == model:
            return f"{label}: {hint[0].lower()}{hint[1:]}"
    return model


def verdict(explanation: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(op.capitalize(), bool(explanation[f"can_{op}"])) for op in ("read", "edit", "delete")]
