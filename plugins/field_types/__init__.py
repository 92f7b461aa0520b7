"""Built-in field types, registered through the public ``register_field_types`` hook.

Each family lives in its own module; this plugin only lists them. Helpers other
parts of Trellis need are re-exported here.
"""

from __future__ import annotations

from typing import Any

from trellis.hookspecs import hookimpl

from .auto_number import AutoNumberType, format_auto_number
from .checkbox import CheckboxType
from .choices import CHOICE_TYPES, picklist_values
from .computed import COMPUTED_TYPES
from .numbers import NUMBER_TYPES
from .references import LookupType
from .temporal import TEMPORAL_TYPES
from .text import TEXT_TYPES

BUILTIN_FIELD_TYPES = (
    *TEXT_TYPES,
    *NUMBER_TYPES,
    CheckboxType,
    *TEMPORAL_TYPES,
    *CHOICE_TYPES,
    LookupType,
    AutoNumberType,
    *COMPUTED_TYPES,
)

__all__ = ["BUILTIN_FIELD_TYPES", "format_auto_number", "picklist_values", "register_field_types"]


@hookimpl
def register_field_types(registry: Any) -> None:
    """Register one instance of every built-in field type."""
    for field_type in BUILTIN_FIELD_TYPES:
        registry.register(field_type())
