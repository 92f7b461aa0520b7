"""Trellis formula engine: a Salesforce-formula-compatible expression language.

Pipeline: Lark LALR parse (``grammar.lark``) -> AST dataclasses -> type check
against the object's field types -> compile to Python closures (and, where
possible, to SQL over JSONB) -> evaluate.

    >>> from trellis.rule_engine import compile_formula
    >>> rule = compile_formula('AND(ISPICKVAL(Stage, "Closed Won"), Amount < 1000)',
    ...                        fields={"Stage": "picklist", "Amount": "currency"})
    >>> rule.evaluate({"Stage": "Closed Won", "Amount": 500})
    True

Deliberate difference from Salesforce: ``^`` binds tighter than ``*`` and
``/`` and than unary minus, and is right associative, as in standard
mathematics (``2*3^2`` is 18, ``-2^2`` is -4, ``2^3^2`` is 512). Salesforce
evaluates ``^`` at the same level as ``*``/``/``; write parentheses if a
formula pasted from Salesforce relies on that.
"""

from __future__ import annotations

from trellis.rule_engine.errors import (
    FormulaError,
    FormulaLimitError,
    FormulaRuntimeError,
    FormulaSqlError,
    FormulaSyntaxError,
    FormulaTypeError,
)
from trellis.rule_engine.formula import CompiledFormula, check_formula, compile_formula
from trellis.rule_engine.functions import (
    FunctionRegistry,
    FunctionSpec,
    builtin_registry,
    new_registry,
)

__all__ = [
    "CompiledFormula",
    "FormulaError",
    "FormulaLimitError",
    "FormulaRuntimeError",
    "FormulaSqlError",
    "FormulaSyntaxError",
    "FormulaTypeError",
    "FunctionRegistry",
    "FunctionSpec",
    "builtin_registry",
    "check_formula",
    "compile_formula",
    "new_registry",
]
