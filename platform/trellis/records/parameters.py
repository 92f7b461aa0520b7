"""Whole-number parameters (page sizes, row-id cursors), read the same way by the records
query and the HTTP layer: ASCII digits within a bigint, or a 400 that names the parameter."""

from __future__ import annotations

import re

from trellis.errors import BadRequest

BIGINT_MAX = 2**63 - 1
_WHOLE_NUMBER = re.compile(r"[0-9]{1,4000}")


def whole_number(raw: str, name: str, low: int = 0, high: int | None = BIGINT_MAX) -> int:
    """A whole-number parameter from ``low`` to ``high`` (a page size, a row id cursor), or a
    400 naming it; by default no larger than a bigint, so it never overflows in PostgreSQL.
    ``high=None`` leaves it unbounded, for bounds the caller clamps itself."""
    value = int(raw) if _WHOLE_NUMBER.fullmatch(raw) else None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BadRequest(f"{name} must be a whole number {bounds}.", fields={name: bounds})
    return value
