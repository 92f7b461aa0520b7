"""The public entry points: ``compile_formula``, ``check_formula`` and the
``CompiledFormula`` they produce (one object for validation rules, formula
fields, conditions, defaults and ``where=`` filters)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.checker import CheckedFormula, TypeChecker
from trellis.rule_engine.compiler import PythonCompiler
from trellis.rule_engine.errors import (
    FormulaError, FormulaLimitError, FormulaRuntimeError, FormulaTypeError,
)
from trellis.rule_engine.functions import FunctionRegistry, builtin_registry, is_builtin
from trellis.rule_engine.functions.text import REGEX_TIMEOUT_SECONDS
from trellis.rule_engine.parser import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, parse
from trellis.rule_engine.values import UTC, Environment, ensure_aware

DEFAULT_MAX_STEPS = 100_000
BLANK_MODES = ("blank", "zero")


class CompiledFormula:
    """A parsed, type-checked and compiled formula, safe to cache and share."""

    def __init__(self, source: str, checked: CheckedFormula, closure: Callable[..., Any], *,
                 blank_mode: str, return_type: str, max_steps: int, regex_timeout: float,
                 registry: FunctionRegistry) -> None:
        self.source = source
        self.checked = checked
        self.blank_mode = blank_mode
        self.return_type = return_type
        self.references: frozenset[str] = checked.references
        self.uses_prior = checked.uses_prior
        self.registry = registry
        self._closure = closure
        self._max_steps = max_steps
        self._regex_timeout = regex_timeout
        # Most rules never touch the environment (no TODAY(), prior values,
        # globals or text building): they share one immutable environment, which
        # keeps ``evaluate`` close to the cost of a hand-written check.
        self._shared_environment = None if _needs_environment(checked, registry) else Environment(
            None, False, None, {}, max_steps, regex_timeout)

    def __repr__(self) -> str:
        return f"<CompiledFormula {self.return_type} {self.source[:60]!r}>"

    def evaluate(self, record: Mapping[str, Any], prior: Mapping[str, Any] | None = None,
                 is_new: bool = False, now: dt.datetime | None = None,
                 globals: Mapping[str, Any] | None = None) -> Any:
        """Evaluate against ``record`` (field path -> value); ``None`` means blank.

        ``prior`` is the record before the change (ISCHANGED, PRIORVALUE),
        ``now`` fixes TODAY()/NOW(), ``globals`` maps names like ``"$User.Id"``.
        """
        environment = self._shared_environment
        if environment is None:
            moment = ensure_aware(now) if isinstance(now, dt.datetime) else dt.datetime.now(UTC)
            environment = Environment(prior, is_new, moment, globals or {}, self._max_steps,
                                      self._regex_timeout)
        try:
            result = self._closure(record, environment)
        except FormulaError as error:
            raise error.with_source(self.source)
        except RecursionError:
            raise FormulaRuntimeError("the formula is nested too deeply to evaluate",
                                      source=self.source) from None
        except Exception as error:  # bad input values: never let a raw exception escape
            if record is None:
                return self.evaluate({}, prior, is_new, now, globals)
            raise FormulaRuntimeError(f"cannot evaluate the formula: {error}",
                                      source=self.source) from error
        if result.__class__ is str and not result:
            return None
        return result

    def to_sql(self, resolve: Callable[[str], Any], now: dt.datetime | None = None,
               globals: Mapping[str, Any] | None = None) -> Any:
        """A SQLAlchemy Core expression computing the same value in PostgreSQL."""
        from trellis.rule_engine.sql import SqlCompiler

        try:
            return SqlCompiler(self.checked, resolve, blank_mode=self.blank_mode, now=now,
                               globals_=globals).compile()
        except FormulaError as error:
            raise error.with_source(self.source)


def _needs_environment(checked: CheckedFormula, registry: FunctionRegistry) -> bool:
    """Whether evaluation reads or charges the per-call environment."""
    if checked.globals:
        return True
    for spec in checked.functions.values():
        if spec.needs_environment or spec.uses_prior:
            return True
        if spec.lazy and not is_builtin(spec):
            return True  # a plugin's lazy function receives the environment
    return any(kind == kinds.TEXT and isinstance(node, (ast.FunctionCall, ast.BinaryOperation))
               for node, kind in checked.kinds.items())


def _fits(kind: str, expected: str) -> bool:
    if kind == kinds.NULL:
        return True
    if expected in kinds.NUMBER_KINDS:
        return kind in kinds.NUMBER_KINDS
    if expected == kinds.PICKLIST:
        return kind == kinds.TEXT
    return kind == expected


def compile_formula(source: str, fields: Mapping[str, str] | None = None, *,
                    blank_mode: str = "blank", expected_type: str | None = None,
                    functions: FunctionRegistry | None = None,
                    global_types: Mapping[str, str] | None = None, allow_prior: bool = True,
                    max_length: int = DEFAULT_MAX_LENGTH, max_depth: int = DEFAULT_MAX_DEPTH,
                    max_steps: int = DEFAULT_MAX_STEPS,
                    regex_timeout: float = REGEX_TIMEOUT_SECONDS) -> CompiledFormula:
    """Parse, type-check and compile ``source``; raise a ``FormulaError`` subclass.

    ``fields`` maps field paths (dotted for related objects) to Trellis field
    types. ``blank_mode`` is ``"blank"`` (blank fields stay blank) or
    ``"zero"`` (blank numbers are 0 and blank text ""). ``expected_type`` is
    the field type the caller needs (``"checkbox"`` for validation rules).
    ``allow_prior=False`` rejects ISCHANGED/PRIORVALUE (formula fields).
    """
    if blank_mode not in BLANK_MODES:
        raise ValueError(f"blank_mode must be one of {BLANK_MODES}, not {blank_mode!r}")
    registry = functions if functions is not None else builtin_registry()
    try:
        root = parse(source, max_length=max_length, max_depth=max_depth)
        checked = TypeChecker(fields or {}, registry, global_types, allow_prior).check(root)
        if checked.node_count > max_steps:
            raise FormulaLimitError(f"the formula has {checked.node_count} parts; the evaluation "
                                    f"budget allows {max_steps}", line=1, column=1)
        expected_kind = None
        if expected_type is not None:
            expected_kind = kinds.kind_of_field_type(expected_type)
            if expected_kind is None:
                raise ValueError(f"unknown expected_type {expected_type!r}")
            if not _fits(checked.kind, expected_kind):
                span = root.span
                raise FormulaTypeError(
                    f"the formula must return {kinds.label(expected_kind)}"
                    + (" (TRUE or FALSE)" if expected_kind == kinds.CHECKBOX else "")
                    + f", but it returns {kinds.label(checked.kind)}",
                    line=span.line, column=span.column, end_line=span.end_line,
                    end_column=span.end_column)
        closure = PythonCompiler(checked, blank_mode).compile()
    except FormulaError as error:
        raise error.with_source(source) from None
    except RecursionError:  # pragma: no cover - parser limits keep passes shallow
        raise FormulaLimitError("the formula is nested too deeply", source=source) from None
    if checked.kind == kinds.NULL:
        return_type = expected_type.lower() if expected_type else kinds.TEXT
    else:
        return_type = checked.kind
    return CompiledFormula(source, checked, closure, blank_mode=blank_mode,
                           return_type=return_type, max_steps=max_steps,
                           regex_timeout=regex_timeout, registry=registry)


def check_formula(source: str, fields: Mapping[str, str] | None = None, **options: Any) -> str:
    """Return the formula's result type or raise: for the rule editor's live check."""
    return compile_formula(source, fields, **options).return_type
