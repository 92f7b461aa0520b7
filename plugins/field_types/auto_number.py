"""The auto-number type: a readable sequential name such as ``OPP-0042``.

Trellis assigns the number when a record is created; clients never write it.
The definition's ``format`` holds one ``{0…0}`` placeholder whose width is the
zero padding; numbers that outgrow it are printed in full, never truncated.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from trellis.metadata.field_types import TEXT_OPERATORS, FieldValueError

from .base import WHITESPACE, BuiltinFieldType, integer_property

PLACEHOLDER_PATTERN = re.compile(r"\{(0+)\}")
MAX_PLACEHOLDER_WIDTH = 10
MAX_START = 10**15


def _placeholder(format_text: str) -> re.Match[str]:
    match = PLACEHOLDER_PATTERN.search(format_text)
    if match is None:
        raise ValueError(f"auto-number format {format_text!r} has no {{0}} placeholder")
    return match


def format_auto_number(field: dict[str, Any], number: int) -> str:
    """The display value for ``number``: ``format_auto_number({"format": "OPP-{0000}"}, 7)``
    is ``"OPP-0007"``."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise ValueError(f"auto numbers are non-negative integers, not {number!r}")
    format_text = field["format"]
    match = _placeholder(format_text)
    digits = str(number).zfill(len(match.group(1)))
    return format_text[: match.start()] + digits + format_text[match.end() :]


class AutoNumberType(BuiltinFieldType):
    """Computed text; filtered like text (``startswith`` finds a prefix)."""

    name = "auto_number"
    computed = True
    sequence = True
    usable_as_name = True
    searchable = True  # people quote invoice and case numbers
    accepts_default = False
    operators = TEXT_OPERATORS
    properties: ClassVar[dict[str, Any]] = {
        "format": {
            "type": "string",
            "minLength": 3,
            "maxLength": 100,
            "description": "Display format with one zero placeholder, e.g. OPP-{0000}.",
        },
        "start": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_START,
            "default": 1,
            "description": "The first number given.",
        },
    }
    required_properties: ClassVar[tuple[str, ...]] = ("format",)

    def sequence_start(self, field: dict[str, Any]) -> int:
        """The first number to give (the definition's ``start``, default 1)."""
        return integer_property(field, "start", 1)

    def format_sequence(self, field: dict[str, Any], number: int) -> str:
        return format_auto_number(field, number)

    def check_properties(self, field: dict[str, Any]) -> list[str]:
        format_text = field.get("format")
        if not isinstance(format_text, str):
            return ["format: give a format such as OPP-{0000}."]
        placeholders = PLACEHOLDER_PATTERN.findall(format_text)
        if len(placeholders) != 1:
            return [
                "format: use exactly one number placeholder of zeros in braces, e.g. OPP-{0000}."
            ]
        rest = PLACEHOLDER_PATTERN.sub("", format_text)
        if "{" in rest or "}" in rest:
            return ["format: braces may only surround the number placeholder, e.g. OPP-{0000}."]
        if len(placeholders[0]) > MAX_PLACEHOLDER_WIDTH:
            return [f"format: the placeholder may pad to at most {MAX_PLACEHOLDER_WIDTH} digits."]
        if format_text != format_text.strip(WHITESPACE):
            return ["format: remove the spaces around it."]
        return []

    def normalize(self, value: Any, field: dict[str, Any]) -> None:
        if value is not None:
            raise FieldValueError("Set by Trellis; leave it out.")
        return None

    def parse_filter_value(self, raw: str, field: dict[str, Any]) -> str:
        """Filters compare against the generated text, which clients cannot write."""
        return raw.strip(WHITESPACE)

    def json_schema(self, field: dict[str, Any]) -> dict[str, Any]:
        return {"type": ["string", "null"], "readOnly": True}
