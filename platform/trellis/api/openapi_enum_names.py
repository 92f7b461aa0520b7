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
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", value)  # ErpCode: ERP_CODE
        base = re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_").upper() or "BLANK"
        if not base[0].isalpha():
            base = f"VALUE_{base}"
        name, number = base, 2
        while name in names:
            name, number = f"{base}_{number}", number + 1
        names.append(name)
    return names


def name_enum_members(node: Any) -> Any:
    """``node`` with ``x-enum-varnames`` on every enum of strings under it; a ``null``
    member, which generators treat as "optional", gets no name. A copy: the schemas it
    holds may be shared ones (a field type's properties), which must stay as they are."""
    if isinstance(node, list):
        return [name_enum_members(item) for item in node]
    if not isinstance(node, dict):
        return node
    named = {key: name_enum_members(value) for key, value in node.items()}
    values = node.get("enum")
    if isinstance(values, list) and all(isinstance(v, str) or v is None for v in values):
        named[VARNAMES] = member_names([value for value in values if value is not None])
    return named
