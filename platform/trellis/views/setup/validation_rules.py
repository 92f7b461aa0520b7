"""Setup → Build → Validation rules: pick an object, list its rules in the order they
run, create and edit them (the condition typed in the formula editor), turn them on and
off, reorder and delete them. Every change saves the object through MetadataService
(trellis.views.setup.validation_rule_store), exactly as the API's object replace does."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from trellis.errors import ValidationError
from trellis.metadata.compiled import ObjectSchema
from trellis.views.setup.screen import blueprint, setup_screen
from trellis.views.setup.sections import Section
from trellis.views.setup.validation_rule_store import (
    find_rule,
    form_errors,
    moved,
    read_rule,
    reordered,
    rules_of,
    save_rules,
)
from trellis.views.shell import Screen

RIGHT = "manage_metadata"
SECTIONS: tuple[Section, ...] = (
    Section(
        "validation_rules",
        "Validation rules",
        "setup.validation_rule_objects",
        RIGHT,
        "Build",
        "Conditions a record must meet to be saved, with the message the user sees.",
    ),
)


def _label(obj: ObjectSchema) -> str:
    return str(obj.definition.get("label") or obj.api_name)


def _objects(current: Screen) -> list[ObjectSchema]:
    return sorted(current.schema.objects.values(), key=lambda obj: _label(obj).lower())


def _list_url(obj: ObjectSchema) -> str:
    return url_for("setup.validation_rule_list", api_name=obj.api_name)


@blueprint.get("/validation-rules/")
def validation_rule_objects() -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        chosen = request.args.get("object")
        if chosen:  # the picker's form, without script
            return redirect(_list_url(current.schema.object(chosen)), 303)
        return render_template("setup/rules/objects.html", objects=_objects(current), label=_label)


@blueprint.get("/validation-rules/<api_name>/")
def validation_rule_list(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        fields = {name: str(f.definition.get("label") or name) for name, f in obj.fields.items()}
        return render_template(
            "setup/rules/list.html",
            obj=obj,
            object_label=_label(obj),
            objects=_objects(current),
            label=_label,
            rules=rules_of(obj),
            field_labels=fields,
        )


def _render_form(
    obj: ObjectSchema,
    rule: dict[str, Any],
    original: str | None,
    error: ValidationError | None = None,
) -> ResponseReturnValue:
    errors, others = form_errors(error) if error is not None else ({}, [])
    fields = [
        (name, str(field.definition.get("label") or name))
        for name, field in obj.fields.items()
        if not field.definition.get("deleted")
    ]
    page = render_template(
        "setup/rules/form.html",
        obj=obj,
        object_label=_label(obj),
        rule=rule,
        original=original,
        errors=errors,
        other_errors=others,
        fields=sorted(fields, key=lambda item: item[1].lower()),
    )
    return (page, 422) if error is not None else page


@blueprint.route("/validation-rules/<api_name>/new", methods=["GET", "POST"])
def new_validation_rule(api_name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        if request.method == "GET":
            return _render_form(obj, {"active": True, "condition": ""}, None)
        try:
            rule = read_rule(request.form)
            save_rules(current, obj, [*rules_of(obj), rule], f"Add rule {rule['name']}")
        except ValidationError as error:
            return _render_form(obj, _submitted(), None, error)
    flash(f"Validation rule {rule['name']} added.")
    return redirect(_list_url(obj), 303)


@blueprint.route("/validation-rules/<api_name>/<name>/edit", methods=["GET", "POST"])
def edit_validation_rule(api_name: str, name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        index, stored = find_rule(obj, name)
        if request.method == "GET":
            return _render_form(obj, stored, stored["name"])
        try:
            rule = read_rule(request.form)
            rules = rules_of(obj)
            rules[index] = rule
            save_rules(current, obj, rules, f"Change rule {stored['name']}")
        except ValidationError as error:
            return _render_form(obj, _submitted(), stored["name"], error)
    flash(f"Validation rule {rule['name']} saved.")
    return redirect(_list_url(obj), 303)


def _submitted() -> dict[str, Any]:
    """The rule as the refused form had it, to show it again unchanged."""
    return {**request.form.to_dict(), "active": request.form.get("active") == "on"}


@blueprint.post("/validation-rules/<api_name>/<name>/active")
def toggle_validation_rule(api_name: str, name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        index, rule = find_rule(obj, name)
        active = request.form.get("active") == "true"
        rules = rules_of(obj)
        rules[index] = {**rule, "active": active}
        verb = "Activate" if active else "Deactivate"
        save_rules(current, obj, rules, f"{verb} rule {rule['name']}")
    flash(f"Validation rule {rule['name']} {'activated' if active else 'deactivated'}.")
    return redirect(_list_url(obj), 303)


@blueprint.post("/validation-rules/<api_name>/<name>/move")
def move_validation_rule(api_name: str, name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        index, rule = find_rule(obj, name)
        step = -1 if request.form.get("direction") == "up" else 1
        save_rules(current, obj, moved(rules_of(obj), index, step), f"Move rule {rule['name']}")
    flash(f"Validation rule {rule['name']} moved {'up' if step < 0 else 'down'}.")
    return redirect(_list_url(obj) + f"#rule-{rule['name']}", 303)


@blueprint.post("/validation-rules/<api_name>/order")
def order_validation_rules(api_name: str) -> ResponseReturnValue:
    """The order a drag on the list gives (every rule's name, in their new order)."""
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        rules = reordered(rules_of(obj), request.form.getlist("order"))
        save_rules(current, obj, rules, f"Reorder the rules of {obj.api_name}")
    flash("Validation rules reordered.")
    return redirect(_list_url(obj), 303)


@blueprint.route("/validation-rules/<api_name>/<name>/delete", methods=["GET", "POST"])
def delete_validation_rule(api_name: str, name: str) -> ResponseReturnValue:
    with setup_screen(RIGHT) as current:
        obj = current.schema.object(api_name)
        index, rule = find_rule(obj, name)
        if request.method == "GET":
            return render_template(
                "setup/rules/delete.html", obj=obj, object_label=_label(obj), rule=rule
            )
        rules = rules_of(obj)
        del rules[index]
        save_rules(current, obj, rules, f"Delete rule {rule['name']}")
    flash(f"Validation rule {rule['name']} deleted.")
    return redirect(_list_url(obj), 303)
