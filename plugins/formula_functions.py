"""The built-in formula function library, registered through the public hook."""

from __future__ import annotations

from typing import Any

from trellis.hookspecs import hookimpl
from trellis.rule_engine.functions import datetime as datetime_functions
from trellis.rule_engine.functions import logical, math, text


@hookimpl
def register_formula_functions(registry: Any) -> None:
    for family in (logical, text, math, datetime_functions):
        family.register(registry)
