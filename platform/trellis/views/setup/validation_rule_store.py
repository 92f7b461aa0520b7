"""Changing an object's validation rules for the Setup screens: each change is the object's
definition with its ``validation_rules`` list changed, saved through MetadataService as the
API's object replace saves it (validated, formulas checked, a revision, the audit trail).

The list's order is the order the rules run and report in, so reordering is a change of
the definition too. A refused save raises ValidationError keyed as the service keys it
(``validation_rules.<name>.condition``); :func:`form_errors` maps that to the form's
fields."""

from __future__ import annotations

import copy
import re
from typing import Any

from trellis.errors import NotFound, ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.metadata.service import MetadataService
from trellis.state import get_state
from trellis.views.shell import Screen

FORM_FIELDS = ("name", "description", "condition", "message", "error_field")
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
MAX_MESSAGE, MAX_DESCRIPTION = 500, 2000


def service(current: Screen) -> MetadataService:
    return MetadataService(current.connection, current.actor, get_state().metadata_cache)


def rules_of(obj: ObjectSchema) -> list[dict[str, Any]]:
    return [dict(rule) for rule in obj.definition.get("validation_rules", [])]


def find_rule(obj: ObjectSchema, name: str) -> tuple[int, dict[str, Any]]:
    for index, rule in enumerate(rules_of(obj)):
        if rule["name"].lower() == name.lower():
            return index, rule
    raise NotFound(f"{obj.api_name} has no validation rule {name!r}.", code="unknown_rule")


def save_rules(
    current: Screen, obj: ObjectSchema, rules: list[dict[str, Any]], message: str
) -> None:
    """Save ``obj`` with ``rules`` as its validation rules (the rest of it unchanged)."""
    definition = copy.deepcopy(obj.definition)
    definition["validation_rules"] = rules
    service(current).replace_object(obj.api_name, definition, message=message)


def read_rule(form: Any) -> dict[str, Any]:
    """The rule a form submits, checked for what the form can say at its fields (the
    service checks the rest: unique name, the formula, the error field)."""
    rule: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "condition": form.get("condition", ""),
        "message": form.get("message", "").strip(),
        "active": form.get("active") == "on",
    }
    description = form.get("description", "").strip()
    if description:
        rule["description"] = description
    if form.get("error_field"):
        rule["error_field"] = form.get("error_field")
    errors: dict[str, list[str]] = {}
    if not API_NAME.match(rule["name"]):
        errors["name"] = ["Use a letter, then letters, digits or underscores (at most 63)."]
    if not rule["condition"].strip():
        errors["condition"] = ["Enter the condition: the record is refused when it is TRUE."]
    if not rule["message"]:
        errors["message"] = ["Enter the message the user sees."]
    elif len(rule["message"]) > MAX_MESSAGE:
        errors["message"] = [f"At most {MAX_MESSAGE} characters."]
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"At most {MAX_DESCRIPTION} characters."]
    if errors:
        raise ValidationError("The rule is not valid.", fields=errors)
    return rule


def form_errors(error: ValidationError) -> tuple[dict[str, list[str]], list[str]]:
    """The service's errors by the form's field (the last part of a key such as
    ``validation_rules.Big.condition``), and those that belong to no field."""
    fields: dict[str, list[str]] = {}
    others: list[str] = []
    for key, messages in error.fields.items():
        last = key.rpartition(".")[2]
        if key in FORM_FIELDS or (key.startswith("validation_rules.") and last in FORM_FIELDS):
            fields.setdefault(last, []).extend(messages)
        else:
            others.extend(f"{key}: {message}" for message in messages)
    if not fields and not others:
        others.append(error.message)
    return fields, others


def moved(rules: list[dict[str, Any]], index: int, step: int) -> list[dict[str, Any]]:
    """The rules with the one at ``index`` moved ``step`` places (kept within the list)."""
    target = max(0, min(len(rules) - 1, index + step))
    rules = list(rules)
    rules.insert(target, rules.pop(index))
    return rules


def reordered(rules: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """The rules in the order of ``names``, which must name each rule exactly once."""
    by_name = {rule["name"].lower(): rule for rule in rules}
    wanted = [name.lower() for name in names]
    if sorted(wanted) != sorted(by_name):
        raise ValidationError(
            "The new order must list every rule once; reload the page and try again.",
            fields={"order": ["Every rule, once."]},
        )
    return [by_name[name] for name in wanted]
