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

__all__ = [
    "FAMILIES",
    "CallCheck",
    "FunctionRegistry",
    "FunctionSpec",
    "Parameter",
    "builtin_registry",
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
