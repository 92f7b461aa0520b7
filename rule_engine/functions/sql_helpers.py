"""Small SQL pieces shared by the SQL forms of several functions.

A function's SQL form is given with its definition (``sql=`` when it is
registered) and called by :class:`trellis.rule_engine.sql.SqlCompiler` as
``sql(compiler, node, arguments)``: the compiler (for ``compiler.kind(node)``,
``compiler.equal(...)``, ``compiler.error(...)`` and ``compiler.now``), the call
node, and the SQL of each argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, cast, func


def integer(value: Any) -> Any:
    """A number truncated to an integer, as the Python functions do with counts."""
    return cast(func.trunc(value), Integer)


def text_or_empty(value: Any) -> Any:
    """Blank text as '' (SQL NULL otherwise spreads through text functions)."""
    return func.coalesce(value, "")


def simple(function: Callable[..., Any]) -> Callable[..., Any]:
    """The SQL form of a function that maps straight onto one PostgreSQL function."""
    return lambda compiler, node, args: function(*args)
