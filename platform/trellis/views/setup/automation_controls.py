"""An action's form controls, generated from its type's JSON Schema (no list of action
types here): a string is a text box (a formula box where the schema marks a formula, a
long text area past 500 characters), a number a number box, a boolean a checkbox, an
enum a select, an array of strings one entry per line, an object of named properties a
group, and an object of free keys a table of key/value rows (the keys field names where
the schema constrains them to API names). Secrets are password boxes holding the mask.

Controls are named ``<prefix>-<property>`` (``actions-0-url``), sub-controls
``<prefix>-<property>-<sub>``, rows ``<name>-key-<n>`` and ``<name>-value-<n>``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from trellis.metadata.secrets import SECRET_MASK

# Key/value rows offered beyond those filled in.
BLANK_ROWS = 2
LONG_TEXT = 500
WORDS = {"url": "URL", "id": "ID", "api": "API"}


@dataclasses.dataclass
class Control:
    key: str
    name: str
    label: str
    # text, textarea, formula, number, integer, checkbox, select, secret, lines, map, group
    kind: str
    required: bool = False
    help: str = ""
    value: Any = ""
    options: tuple[str, ...] = ()
    errors: list[str] = dataclasses.field(default_factory=list)
    children: list[Control] = dataclasses.field(default_factory=list)
    # map: whether the keys are field names, and of which object (for the suggestions).
    field_keys: bool = False
    rows: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"control-{self.name}"


def label_of(key: str) -> str:
    words = [WORDS.get(word, word) for word in key.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def kind_of(schema: Mapping[str, Any], secret: bool) -> str:
    """The control a property of this schema gets, its shapes told apart in this order."""
    if secret:
        return "secret"
    if "enum" in schema:
        return "select"
    kind = schema.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return str(kind)
    if kind == "array":
        return "lines"
    if kind == "object":
        return "group" if schema.get("properties") else "map"
    if schema.get("x-formula"):
        return "formula"
    # Long free text (a message body) gets a text area; an address with a pattern does not.
    if int(schema.get("maxLength", 0)) > LONG_TEXT and "pattern" not in schema:
        return "textarea"
    return "text"


def controls(
    schema: Mapping[str, Any],
    values: Mapping[str, Any],
    prefix: str,
    secrets: tuple[str, ...] = (),
    errors: Mapping[str, list[str]] | None = None,
    blank: int = BLANK_ROWS,
) -> list[Control]:
    """The controls of ``schema``'s properties (but ``type``), holding ``values``;
    ``errors`` keyed by property path relative to ``values`` (``url``, ``values.Amount``)."""
    errors = errors or {}
    required = set(schema.get("required", ()))
    found = []
    for key, sub in schema.get("properties", {}).items():
        if key == "type":
            continue
        control = Control(
            key=key,
            name=f"{prefix}-{key}",
            label=label_of(key),
            kind=kind_of(sub, key in secrets),
            required=key in required,
            help=str(sub.get("description", "")),
            options=tuple(str(option) for option in sub.get("enum", ())),
        )
        _fill(control, sub, values.get(key), errors, blank)
        found.append(control)
    return found


def _fill(
    control: Control,
    schema: Mapping[str, Any],
    value: Any,
    errors: Mapping[str, list[str]],
    blank: int,
) -> None:
    key = control.key
    control.errors = list(errors.get(key, ()))
    for path, messages in errors.items():
        if path.startswith(f"{key}.") and control.kind != "group":
            control.errors.extend(f"{path.removeprefix(key + '.')}: {m}" for m in messages)
    if control.kind == "group":
        nested = {
            p.removeprefix(f"{key}."): m for p, m in errors.items() if p.startswith(f"{key}.")
        }
        control.children = controls(schema, value or {}, control.name, errors=nested, blank=blank)
    elif control.kind == "map":
        control.field_keys = "propertyNames" in schema
        control.rows = [(str(k), str(v)) for k, v in (value or {}).items()]
        control.rows += [("", "")] * blank
        control.help = control.help or (
            "Each value is a formula." if schema.get("additionalProperties") else ""
        )
    elif control.kind == "lines":
        control.value = "\n".join(str(item) for item in value or ())
        control.help = control.help or "One per line."
    elif control.kind == "checkbox":
        control.value = bool(value)
    elif control.kind == "secret":
        control.value = SECRET_MASK if value else ""
    else:
        control.value = "" if value is None else str(value)


def parse(
    schema: Mapping[str, Any], form: Mapping[str, str], prefix: str
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The values a form holds for ``schema``'s properties (blank ones left out), and the
    entries that are not what their control takes (a number box holding words)."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, sub in schema.get("properties", {}).items():
        if key == "type":
            continue
        name = f"{prefix}-{key}"
        kind = kind_of(sub, False)
        if kind == "group":
            nested, problems = parse(sub, form, name)
            if nested:
                values[key] = nested
            errors.update({f"{key}.{path}": m for path, m in problems.items()})
        elif kind == "map":
            rows = _rows(form, name)
            if rows:
                values[key] = rows
        elif kind == "checkbox":
            if form.get(name):
                values[key] = True
        else:
            raw = form.get(name, "").strip() if kind != "textarea" else form.get(name, "")
            if raw.strip() == "":
                continue
            try:
                values[key] = _typed(kind, raw)
            except ValueError:
                errors[key] = ["Enter a whole number." if kind == "integer" else "Enter a number."]
    return values, errors


def _typed(kind: str, raw: str) -> Any:
    if kind == "integer":
        return int(raw)
    if kind == "number":
        number = float(raw)
        return int(number) if number.is_integer() else number
    if kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    return raw


def _rows(form: Mapping[str, str], name: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    index = 0
    while f"{name}-key-{index}" in form:
        key = form[f"{name}-key-{index}"].strip()
        value = form.get(f"{name}-value-{index}", "").strip()
        if key:
            rows[key] = value
        index += 1
    return rows
