"""The built-in function library, registered the same way plugins register theirs."""

from __future__ import annotations

import functools

from trellis.rule_engine.functions import blanks, logical, math, text
from trellis.rule_engine.functions import datetime as datetime_functions
from trellis.rule_engine.functions.registry import (
    CallCheck,
    FunctionRegistry,
    FunctionSpec,
    Parameter,
)

#: The modules of the built-in library, each with ``register(registry)``.
FAMILIES = (logical, blanks, text, math, datetime_functions)
# How a function picker groups each family's functions; a plugin's are "Other".
FAMILY_LABELS = {
    logical: "Logical",
    blanks: "Logical",
    text: "Text",
    math: "Math",
    datetime_functions: "Date and time",
}

__all__ = [
    "FAMILIES",
    "CallCheck",
    "FunctionRegistry",
    "FunctionSpec",
    "Parameter",
    "builtin_registry",
    "catalogue",
    "is_builtin",
    "new_registry",
]


@functools.cache
def builtin_registry() -> FunctionRegistry:
    """The shared built-in registry, frozen: extend a ``new_registry()`` instead."""
    registry = FunctionRegistry()
    for module in FAMILIES:
        module.register(registry)
    return registry.freeze()


def new_registry() -> FunctionRegistry:
    """A mutable registry holding the built-ins: what a plugin hook fills."""
    return builtin_registry().copy()


def is_builtin(spec: FunctionSpec) -> bool:
    """Whether ``spec`` is the built-in function of its name, even when registered into
    another registry (the app fills its own through the plugin hook)."""
    builtin = builtin_registry().get(spec.name)
    if builtin is None:
        return False
    if builtin is spec:
        return True
    ours, theirs = builtin.implementation, spec.implementation
    return (getattr(ours, "__module__", None), getattr(ours, "__qualname__", None)) == (
        getattr(theirs, "__module__", None),
        getattr(theirs, "__qualname__", None),
    )


@functools.cache
def _categories() -> dict[str, str]:
    """Each built-in function's group, by the family that registers it."""
    found: dict[str, str] = {}
    for module in FAMILIES:
        registry = FunctionRegistry()
        module.register(registry)
        found.update(dict.fromkeys(registry, FAMILY_LABELS[module]))
    return found


def catalogue(registry: FunctionRegistry) -> list[dict[str, str]]:
    """Every function of ``registry`` as a formula editor's function picker lists it:
    name, signature, help text and group, by name. Generated from the registry, so a
    plugin's functions are listed with the built-ins."""
    entries = []
    for name in registry:
        spec = registry.get(name)
        assert spec is not None
        signature, help_text = spec.usage()
        category = _categories().get(name, "Other") if is_builtin(spec) else "Other"
        entries.append(
            {
                "name": name,
                "signature": signature,
                "description": help_text,
                "category": category,
            }
        )
    return entries
