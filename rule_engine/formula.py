"""The public entry points: ``compile_formula``, ``check_formula`` and the
``CompiledFormula`` they produce (one object for validation rules, formula
fields, conditions, defaults and ``where=`` filters)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.checker import CheckedFormula, TypeChecker
from trellis.rule_engine.compiler import PythonCompiler
from trellis.rule_engine.errors import (
    FormulaError,
    FormulaLimitError,
    FormulaRuntimeError,
    FormulaTypeError,
)
from trellis.rule_engine.functions import FunctionRegistry, builtin_registry, is_builtin
from trellis.rule_engine.junctions import Junction
from trellis.rule_engine.limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_STEPS,
    REGEX_TIMEOUT_SECONDS,
)
from trellis.rule_engine.parser import parse
from trellis.rule_engine.values import UTC, Environment, ensure_aware

BLANK_MODES = ("blank", "zero")


class CompiledFormula:
    """A parsed, type-checked and compiled formula, safe to cache and share."""

    def __init__(
        self,
        source: str,
        checked: CheckedFormula,
        closure: Callable[..., Any],
        *,
        blank_mode: str,
        return_type: str,
        max_steps: int,
        regex_timeout: float,
        registry: FunctionRegistry,
        junction: Junction | None = None,
    ) -> None:
        self.source = source
        self.checked = checked
        self.blank_mode = blank_mode
        self.return_type = return_type
        self.references: frozenset[str] = checked.references
        # The ``$``-globals read, by their declared names (``$User.Region``).
        self.global_references: frozenset[str] = frozenset(checked.globals.values())
        self.uses_prior = checked.uses_prior
        self.registry = registry
        self._closure = closure
        self._max_steps = max_steps
        self._regex_timeout = regex_timeout
        # Most rules never touch the environment (no TODAY(), prior values,
        # globals or text building): they share one immutable environment, which
        # keeps ``evaluate`` close to the cost of a hand-written check.
        self._shared_environment = (
            None
            if _needs_environment(checked, registry)
            # No time: the formulas that share this environment never read it.
            else Environment(None, False, None, {}, max_steps, regex_timeout)  # type: ignore[arg-type]
        )
        if self._shared_environment is not None:
            # An instance attribute shadowing the method below, on purpose: a function
            # made for this formula saves the attribute look-ups and, for an AND/OR
            # root, one Python call per record (validation rules run on every save
            # and bulk load).
            self.evaluate = self._specialised_evaluate(junction)  # type: ignore[method-assign]
            self.evaluate.__doc__ = CompiledFormula.evaluate.__doc__

    def __repr__(self) -> str:
        return f"<CompiledFormula {self.return_type} {self.source[:60]!r}>"

    def evaluate(
        self,
        record: Mapping[str, Any],
        prior: Mapping[str, Any] | None = None,
        is_new: bool = False,
        now: dt.datetime | None = None,
        globals: Mapping[str, Any] | None = None,
    ) -> Any:
        """Evaluate against ``record`` (field path -> value); ``None`` means blank.

        ``prior`` is the record before the change (ISCHANGED, PRIORVALUE),
        ``now`` fixes TODAY()/NOW(), ``globals`` maps names like ``"$User.Id"``.
        """
        environment = self._shared_environment
        if environment is None:
            moment = ensure_aware(now) if isinstance(now, dt.datetime) else dt.datetime.now(UTC)
            environment = Environment(
                prior, is_new, moment, globals or {}, self._max_steps, self._regex_timeout
            )
        try:
            result = self._closure(record, environment)
        except Exception as error:  # noqa: BLE001 - a formula's failure becomes a FormulaError, never a raw exception
            return self._evaluation_failed(error, record, prior, is_new, now, globals)
        if result.__class__ is str and not result:
            return None
        return result

    def _evaluation_failed(
        self, error: Exception, record: Any, prior: Any, is_new: bool, now: Any, globals: Any
    ) -> Any:
        """Turn whatever evaluation raised into a ``FormulaError`` with the source
        (a ``None`` record is evaluated as an empty one)."""
        if isinstance(error, FormulaError):
            raise error.with_source(self.source)
        if isinstance(error, RecursionError):
            raise FormulaRuntimeError(
                "the formula is nested too deeply to evaluate", source=self.source
            ) from None
        if record is None:  # bad input values: never let a raw exception escape
            return self.evaluate({}, prior, is_new, now, globals)
        raise FormulaRuntimeError(
            f"cannot evaluate the formula: {error}", source=self.source
        ) from error

    def _specialised_evaluate(self, junction: Junction | None) -> Callable[..., Any]:
        """``evaluate`` for a formula that shares one environment between calls.

        It behaves exactly like the method. With a root AND/OR of two or three
        conditions, the combination is written out (``_evaluate_two``,
        ``_evaluate_three``) rather than called.
        """
        closure, environment, failed = (
            self._closure,
            self._shared_environment,
            self._evaluation_failed,
        )
        assert environment is not None  # called only for a formula that shares one
        if junction is not None and len(junction.operands) == 2:
            return _evaluate_two(junction, environment, failed)
        if junction is not None and len(junction.operands) == 3:
            return _evaluate_three(junction, environment, failed)

        def evaluate(record, prior=None, is_new=False, now=None, globals=None):
            try:
                result = closure(record, environment)
            except Exception as error:  # noqa: BLE001 - a formula's failure becomes a FormulaError, never a raw exception
                return failed(error, record, prior, is_new, now, globals)
            if result.__class__ is str and not result:
                return None
            return result

        return evaluate

    def to_sql(
        self,
        resolve: Callable[[str], Any],
        now: dt.datetime | None = None,
        globals: Mapping[str, Any] | None = None,
    ) -> Any:
        """A SQLAlchemy Core expression computing the same value in PostgreSQL.

        ``resolve(path)`` gives each field's typed expression, and each ``$``-global's
        that ``globals`` has no value for."""
        return self._compile_sql(resolve, now, globals, condition=False)

    def to_sql_condition(
        self,
        resolve: Callable[[str], Any],
        now: dt.datetime | None = None,
        globals: Mapping[str, Any] | None = None,
    ) -> Any:
        """A ``WHERE`` condition selecting the records for which ``evaluate`` is TRUE.

        Unlike :meth:`to_sql`, it may be NULL rather than FALSE for the other
        records: ``WHERE`` treats both alike, and that freedom keeps a field
        compared with a literal a plain ``expression op :param``, which
        PostgreSQL matches to the field's expression index. Use it as it is:
        wrapped in COALESCE, or negated, it would no longer reach the index (or,
        for NOT, no longer be right). Only for checkbox formulas (or a bare NULL).
        """
        if self.checked.kind not in (kinds.CHECKBOX, kinds.NULL):
            raise ValueError(f"to_sql_condition needs a checkbox formula, not {self.return_type}")
        return self._compile_sql(resolve, now, globals, condition=True)

    def _compile_sql(
        self,
        resolve: Callable[[str], Any],
        now: dt.datetime | None,
        globals: Mapping[str, Any] | None,
        condition: bool,
    ) -> Any:
        from trellis.rule_engine.sql import SqlCompiler

        try:
            return SqlCompiler(
                self.checked, resolve, blank_mode=self.blank_mode, now=now, globals_=globals
            ).compile(condition)
        except FormulaError as error:
            error.with_source(self.source)  # fills in the error itself: re-raise it as it is
            raise


def _evaluate_two(
    junction: Junction, environment: Environment, failed: Callable[..., Any]
) -> Callable[..., Any]:
    """``evaluate`` for a root AND/OR of two conditions, written out."""
    first, second = junction.operands
    if junction.operator == "AND":

        def evaluate_and2(record, prior=None, is_new=False, now=None, globals=None):
            try:
                return (
                    True  # noqa: SIM210 - cheaper than bool() on the hot path
                    if first(record, environment) and second(record, environment)
                    else False
                )
            except Exception as error:  # noqa: BLE001 - a formula's failure becomes a FormulaError, never a raw exception
                return failed(error, record, prior, is_new, now, globals)

        return evaluate_and2

    def evaluate_or2(record, prior=None, is_new=False, now=None, globals=None):
        try:
            return (
                True if first(record, environment) or second(record, environment) else False  # noqa: SIM210 - cheaper than bool() on the hot path
            )
        except Exception as error:  # noqa: BLE001 - a formula's failure becomes a FormulaError, never a raw exception
            return failed(error, record, prior, is_new, now, globals)

    return evaluate_or2


def _evaluate_three(
    junction: Junction, environment: Environment, failed: Callable[..., Any]
) -> Callable[..., Any]:
    """``evaluate`` for a root AND/OR of three conditions, written out."""
    first, second, third = junction.operands
    if junction.operator == "AND":

        def evaluate_and3(record, prior=None, is_new=False, now=None, globals=None):
            try:
                return (
                    True  # noqa: SIM210 - cheaper than bool() on the hot path
                    if first(record, environment)
                    and second(record, environment)
                    and third(record, environment)
                    else False
                )
            except Exception as error:  # noqa: BLE001 - a formula's failure becomes a FormulaError, never a raw exception
                return failed(error, record, prior, is_new, now, globals)

        return evaluate_and3

    def evaluate_or3(record, prior=None, is_new=False, now=None, globals=None):
        try:
            return (
                True  # noqa: SIM210 - cheaper than bool() on the hot path
                if first(record, environment)
                or second(record, environment)
                or third(record, environment)
                else False
            )
        except Exception as error:  # noqa: BLE001 - a formula's failure becomes a FormulaError, never a raw exception
            return failed(error, record, prior, is_new, now, globals)

    return evaluate_or3


def _needs_environment(checked: CheckedFormula, registry: FunctionRegistry) -> bool:
    """Whether evaluation reads or charges the per-call environment."""
    if checked.globals:
        return True
    for spec in checked.functions.values():
        if spec.needs_environment or spec.uses_prior:
            return True
        if spec.lazy and not is_builtin(spec):
            return True  # a plugin's lazy function receives the environment
    return any(
        kind == kinds.TEXT and isinstance(node, (ast.FunctionCall, ast.BinaryOperation))
        for node, kind in checked.kinds.items()
    )


def _fits(kind: str, expected: str) -> bool:
    if kind == kinds.NULL:
        return True
    if expected in kinds.NUMBER_KINDS:
        return kind in kinds.NUMBER_KINDS
    if expected == kinds.PICKLIST:
        return kind == kinds.TEXT
    return kind == expected


def compile_formula(
    source: str,
    fields: Mapping[str, str] | None = None,
    *,
    blank_mode: str = "blank",
    expected_type: str | None = None,
    functions: FunctionRegistry | None = None,
    global_types: Mapping[str, str] | None = None,
    allow_prior: bool = True,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_steps: int = DEFAULT_MAX_STEPS,
    regex_timeout: float = REGEX_TIMEOUT_SECONDS,
) -> CompiledFormula:
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
        _check_step_budget(checked, max_steps)
        _check_expected_type(root, checked, expected_type)
        closure, junction = PythonCompiler(checked, blank_mode).compile_root()
    except FormulaError as error:
        raise error.with_source(source) from None
    except RecursionError:  # pragma: no cover - parser limits keep passes shallow
        raise FormulaLimitError("the formula is nested too deeply", source=source) from None
    if checked.kind == kinds.NULL:
        return_type = expected_type.lower() if expected_type else kinds.TEXT
    else:
        return_type = checked.kind
    return CompiledFormula(
        source,
        checked,
        closure,
        blank_mode=blank_mode,
        return_type=return_type,
        max_steps=max_steps,
        regex_timeout=regex_timeout,
        registry=registry,
        junction=junction,
    )


def _check_step_budget(checked: CheckedFormula, max_steps: int) -> None:
    """Reject a formula whose parts alone exceed the evaluation budget."""
    if checked.node_count > max_steps:
        raise FormulaLimitError(
            f"the formula has {checked.node_count} parts; the evaluation budget allows {max_steps}",
            line=1,
            column=1,
        )


def _check_expected_type(
    root: ast.Node, checked: CheckedFormula, expected_type: str | None
) -> None:
    """Reject a formula whose result does not fit the field type the caller needs."""
    if expected_type is None:
        return
    expected_kind = kinds.kind_of_field_type(expected_type)
    if expected_kind is None:
        raise ValueError(f"unknown expected_type {expected_type!r}")
    if not _fits(checked.kind, expected_kind):
        span = root.span
        raise FormulaTypeError(
            f"the formula must return {kinds.label(expected_kind)}"
            + (" (TRUE or FALSE)" if expected_kind == kinds.CHECKBOX else "")
            + f", but it returns {kinds.label(checked.kind)}",
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
        )


def check_formula(source: str, fields: Mapping[str, str] | None = None, **options: Any) -> str:
    """Return the formula's result type or raise: for the rule editor's live check."""
    return compile_formula(source, fields, **options).return_type
