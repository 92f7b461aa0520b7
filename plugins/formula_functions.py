"""The built-in formula function library, registered through the public hook."""

from __future__ import annotations

from typing import Any

from trellis.hookspecs import hookimpl
from trellis.rule_engine.functions import FAMILIES


@hookimpl
def register_formula_functions(registry: Any) -> None:
    for family in FAMILIES:
        family.register(registry)
