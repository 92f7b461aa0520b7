"""Names for the values of every enum in the document (``x-enum-varnames``).

Client generators name enum members after their values: ``"Closed Won"`` becomes
``CLOSED_WON``. Values that differ only in case or punctuation (a roll-up's ``COUNT``
and ``count``, a picklist's ``"A/B"`` and ``"A-B"``) would get one name, which crashes
openapi-python-client and silently drops a member in others; values that start with a
digit or hold no letter at all get meaningless names. Each enum gets unique names here,
which openapi-python-client and openapi-generator both read."""

from __future__ import annotations

import re
from typing import Any

VARNAMES = "x-enum-varnames"


def member_names(values: list[str]) -> list[str]:
    """UPPER_SNAKE names, unique within the enum, in the values' order."""
    names: list[str] = []
    for value in values:
        base = re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper() or "BLANK"
        if not base[0].isalpha():
            base = f"VALUE_{base}"
        name, number = base, 2
        while name in names:
            name, number = f"{base}_{number}", number + 1
        names.append(name)
    return names


def name_enum_members(node: Any) -> None:
    """Add ``x-enum-varnames`` to every enum of strings under ``node`` (in place); a
    ``null`` member, which generators treat as "optional", gets no name."""
    if isinstance(node, list):
        for item in node:
            name_enum_members(item)
        return
    if not isinstance(node, dict):
        return
    values = node.get("enum")
    if isinstance(values, list) and all(isinstance(v, str) or v is None for v in values):
        node[VARNAMES] = member_names([value for value in values if value is not None])
    for value in node.values():
        name_enum_members(value)
