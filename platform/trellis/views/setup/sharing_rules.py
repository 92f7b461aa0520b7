"""Setup → Sharing → an object's sharing rules: owner-based (records owned by members of
a group or role) and criteria-based (records for which a checkbox formula is true),
each shared with a group or role for read or read and write. Created, edited and deleted
as a change of the object's whole rule list, through the same service as the API."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.access.groups import list_groups
from trellis.access.sharing_settings import replace_sharing_settings
from trellis.errors import NotFound, TrellisError
from trellis.metadata.compiled import ObjectSchema
from trellis.views.setup.access_common import attempt, metadata
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.shell import Screen

SECTIONS: tuple[Section, ...] = ()
PRINCIPAL_KINDS = {"group": "group", "role": "role", "role_sub": "role"}


def principal_value(principal: dict[str, Any] | None) -> str:
    """A rule's principal as the form's select names it."""
    if not principal:
        return ""
    if principal.get("group"):
        return f"group:{principal['group']}"
    kind = "role_sub" if principal.get("subordinates") else "role"
    return f"{kind}:{principal.get('role', '')}"


def principal_of(value: str) -> dict[str, Any] | None:
    kind, _, name = value.partition(":")
    if kind not in PRINCIPAL_KINDS or not name:
        return None
    principal: dict[str, Any] = {PRINCIPAL_KINDS[kind]: name}
    if kind == "role_sub":
        principal["subordinates"] = True
    return principal


def rule_from_form() -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": request.form.get("name", "").strip(),
        "label": request.form.get("label", "").strip(),
        "access": request.form.get("access", "read"),
    }
    share_with = principal_of(request.form.get("share_with", ""))
    if share_with is not None:
        rule["share_with"] = share_with
    if request.form.get("kind") == "criteria":
        rule["criteria"] = request.form.get("criteria", "").strip()
    else:
        owned_by = principal_of(request.form.get("owned_by", ""))
        if owned_by is not None:
            rule["owned_by"] = owned_by
    if not rule["label"]:
        rule.pop("label")
    return rule


def rule_errors(error: TrellisError | None, index: int) -> dict[str, str]:
    """The error's messages for the rule at ``index``, by form field; the rest under
    ``_rule``."""
    if error is None:
        return {}
    place = f"sharing_rules.{index}"
    found: dict[str, str] = {}
    for key, messages in error.fields.items():
        name = key[len(place) + 1 :].split(".")[0] if key.startswith(f"{place}.") else "_rule"
        found.setdefault(name, messages[0])
    return found


def _find(obj: ObjectSchema, name: str) -> tuple[int, dict[str, Any]]:
    for index, rule in enumerate(obj.definition.get("sharing_rules", [])):
        if rule["name"].lower() == name.lower():
            return index, rule
    raise NotFound(f"{obj.api_name} has no sharing rule {name!r}.")


def _render(
    current: Screen,
    obj: ObjectSchema,
    rule: dict[str, Any],
    editing: str | None,
    index: int,
    error: TrellisError | None = None,
) -> ResponseReturnValue:
    page = render_template(
        "setup/access/sharing_rule.html",
        obj=obj,
        rule=rule,
        editing=editing,
        kind="criteria" if "criteria" in rule else "owner",
        owned_by=principal_value(rule.get("owned_by")),
        share_with=principal_value(rule.get("share_with")),
        groups=list_groups(current.connection),
        roles=sorted(current.schema.access.roles.values(), key=lambda r: str(r["label"]).lower()),
        error=error,
        errors=rule_errors(error, index),
    )
    return page, 422 if error else 200


def _save_rules(current: Screen, obj: ObjectSchema, rules: list[dict[str, Any]]) -> Any:
    return replace_sharing_settings(metadata(current), obj.api_name, {"sharing_rules": rules})


@blueprint.get("/sharing/<api_name>/rules/new")
def new_sharing_rule(api_name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        obj = current.schema.object(api_name)
        return _render(current, obj, {"access": "read"}, None, 0)


@blueprint.post("/sharing/<api_name>/rules/new")
def create_sharing_rule(api_name: str) -> ResponseReturnValue:
    rule = rule_from_form()
    with setup_screen("manage_users") as current:
        obj = current.schema.object(api_name)
        rules = [*obj.definition.get("sharing_rules", []), rule]
        _, error = attempt(current, lambda: _save_rules(current, obj, rules))
        if error is not None:
            return _render(current, obj, rule, None, len(rules) - 1, error)
    flash(f"Added sharing rule {rule['name']}; {obj.api_name} shares recompute.")
    return redirect(url_for("setup.sharing_object", api_name=obj.api_name), 303)


@blueprint.get("/sharing/<api_name>/rules/<name>")
def edit_sharing_rule(api_name: str, name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        obj = current.schema.object(api_name)
        index, rule = _find(obj, name)
        return _render(current, obj, rule, rule["name"], index)


@blueprint.post("/sharing/<api_name>/rules/<name>")
def save_sharing_rule(api_name: str, name: str) -> ResponseReturnValue:
    rule = rule_from_form()
    with setup_screen("manage_users") as current:
        obj = current.schema.object(api_name)
        index, old = _find(obj, name)
        rule["name"] = old["name"]
        if old.get("description"):
            rule["description"] = old["description"]
        rules = list(obj.definition.get("sharing_rules", []))
        rules[index] = rule
        _, error = attempt(current, lambda: _save_rules(current, obj, rules))
        if error is not None:
            return _render(current, obj, rule, old["name"], index, error)
    flash(f"Saved sharing rule {rule['name']}; {obj.api_name} shares recompute.")
    return redirect(url_for("setup.sharing_object", api_name=obj.api_name), 303)


@blueprint.get("/sharing/<api_name>/rules/<name>/delete")
def confirm_delete_sharing_rule(api_name: str, name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        obj = current.schema.object(api_name)
        _, rule = _find(obj, name)
        return render_template("setup/access/sharing_rule_delete.html", obj=obj, rule=rule)


@blueprint.post("/sharing/<api_name>/rules/<name>/delete")
def delete_sharing_rule(api_name: str, name: str) -> ResponseReturnValue:
    with setup_screen("manage_users") as current:
        obj = current.schema.object(api_name)
        index, rule = _find(obj, name)
        rules = [r for i, r in enumerate(obj.definition.get("sharing_rules", [])) if i != index]
        _save_rules(current, obj, rules)
    flash(f"Deleted sharing rule {rule['name']}; the records it shared stop being shared.")
    return redirect(url_for("setup.sharing_object", api_name=obj.api_name), 303)
