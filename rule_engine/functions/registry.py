"""The function registry: every formula function, built-in or from a plugin.

A plugin receives a registry from the plugin hook and adds functions with a
decorator that declares the argument and result kinds; the type checker,
the Python compiler and (optionally) the SQL compiler all read the same spec::

    @registry.function("DISCOUNTED", args=["number", "percent?"], returns="currency")
    def discounted(amount, rate=None):
        return amount * (1 - (rate or 0))
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from trellis.rule_engine import kinds
from trellis.rule_engine.errors import FormulaTypeError

if TYPE_CHECKING:
    from trellis.rule_engine.ast import FunctionCall, Node

_PARAMETER_KINDS: dict[str, frozenset[str]] = {
    "number": frozenset(kinds.NUMBER_KINDS),
    "currency": frozenset(kinds.NUMBER_KINDS),
    "percent": frozenset(kinds.NUMBER_KINDS),
    "text": frozenset({kinds.TEXT}),
    "checkbox": frozenset({kinds.CHECKBOX}),
    "date": frozenset({kinds.DATE}),
    "datetime": frozenset({kinds.DATETIME}),
    "time": frozenset({kinds.TIME}),
    "picklist": frozenset({kinds.PICKLIST}),
    "multi_picklist": frozenset({kinds.MULTI_PICKLIST}),
    "any": frozenset(kinds.ALL_KINDS - {kinds.PICKLIST, kinds.MULTI_PICKLIST}),
    "value": frozenset(kinds.ALL_KINDS),
}


@dataclass(frozen=True)
class Parameter:
    """One declared argument: accepted kinds, optional, repeated."""

    accepted: frozenset[str]
    description: str
    optional: bool = False
    variadic: bool = False

    @classmethod
    def parse(cls, text: str) -> Parameter:
        """Parse ``"number"``, ``"date|datetime"``, ``"text?"`` (optional), ``"*number"``."""
        spec = text.strip()
        variadic = spec.startswith("*")
        optional = spec.endswith("?")
        spec = spec.strip("*?")
        accepted: set[str] = set()
        for part in spec.split("|"):
            part = part.strip().lower()
            if part not in _PARAMETER_KINDS:
                raise ValueError(
                    f"unknown parameter kind {part!r} in {text!r}; "
                    f"use one of {sorted(_PARAMETER_KINDS)}"
                )
            accepted |= _PARAMETER_KINDS[part]
        return cls(frozenset(accepted | {kinds.NULL}), spec, optional, variadic)


@dataclass(frozen=True)
class FunctionSpec:
    """Everything the engine needs to know about one function.

    ``implementation`` receives evaluated argument values (``Decimal`` for
    numbers, ``None`` for blank) unless ``lazy``: then it receives
    ``(record, environment, thunks)`` and calls ``thunk(record, environment)``
    only for the arguments it needs (short-circuit). ``check`` replaces the
    declarative ``parameters`` check when argument kinds depend on each other.

    ``sql`` is the function's SQL form, for formula fields, list filters, sorts and
    ``where=``: ``sql(compiler, node, arguments)`` gets the
    :class:`~trellis.rule_engine.sql.SqlCompiler`, the call node and each argument
    compiled to SQL, and returns a SQLAlchemy expression of the result kind (blank
    is NULL). Without one the function is refused in SQL. ``sql_equality`` says the
    call is TRUE exactly when its two arguments are equal (ISPICKVAL), so that a
    condition comparing a field with a literal may use the field's index.
    """

    name: str
    implementation: Callable[..., Any]
    min_arguments: int = 0
    max_arguments: int | None = 0
    parameters: tuple[Parameter, ...] | None = None
    returns: str | Callable[[list[str]], str] = kinds.TEXT
    check: Callable[[CallCheck], str] | None = None
    lazy: bool = False
    propagate_blank: bool = True
    needs_environment: bool = False
    uses_prior: bool = False
    sql: Callable[..., Any] | None = None
    sql_equality: bool = False
    description: str = ""
    # How the function is called, for editors' help (``IF(condition, value_if_true,
    # value_if_false)``); derived from ``parameters`` when not given (see usage()).
    signature: str = ""

    def usage(self) -> tuple[str, str]:
        """The signature and help text an editor shows: the declared signature, else a
        ``NAME(...)`` the description starts with, else one built from the parameters."""
        if self.signature:
            return self.signature, self.description
        prefix = f"{self.name}("
        if self.description.upper().startswith(prefix):
            close = self.description.find(")")
            if close > 0:
                rest = self.description[close + 1 :].lstrip(":; ,")
                # A sentence, unless it starts with a parameter's name (num_chars).
                if "_" not in rest.partition(" ")[0]:
                    rest = rest[:1].upper() + rest[1:]
                return self.description[: close + 1], rest
        return f"{self.name}({', '.join(self._parameter_names())})", self.description

    def _parameter_names(self) -> list[str]:
        if self.parameters is None:
            count = self.min_arguments if self.max_arguments is None else self.max_arguments
            return ["value"] * count + (["..."] if self.max_arguments is None else [])
        names = []
        for parameter in self.parameters:
            name = parameter.description.replace("|", "_or_")
            if parameter.variadic:
                names.extend([name, "..."])
            else:
                names.append(f"[{name}]" if parameter.optional else name)
        return names

    def result_kind(self, argument_kinds: list[str]) -> str:
        return self.returns(argument_kinds) if callable(self.returns) else self.returns


@dataclass
class CallCheck:
    """What a custom ``check`` callable sees: the call, argument kinds, helpers."""

    call: FunctionCall
    argument_kinds: list[str]
    spec: FunctionSpec
    notes: dict[str, Any] = field(default_factory=dict)

    def error(self, message: str, node: Node | None = None) -> FormulaTypeError:
        span = (node or self.call).span
        return FormulaTypeError(
            message,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
        )

    def require(self, index: int, *accepted: str) -> str:
        """Check argument ``index`` against parameter kind names; return its kind."""
        allowed: set[str] = {kinds.NULL}
        for name in accepted:
            allowed |= _PARAMETER_KINDS[name]
        kind = self.argument_kinds[index]
        if kind not in allowed:
            raise self.argument_error(index, " or ".join(accepted))
        return kind

    def argument_error(self, index: int, expected: str) -> FormulaTypeError:
        kind = self.argument_kinds[index]
        node = self.call.arguments[index]
        if kind == kinds.PICKLIST:
            return self.error(
                f"{self.spec.name} cannot use a picklist value directly (argument {index + 1}); "
                'use ISPICKVAL(field, "value") to compare or TEXT(field) to convert',
                node,
            )
        if kind == kinds.MULTI_PICKLIST:
            return self.error(
                f"{self.spec.name} cannot use a multi-select picklist (argument {index + 1}); "
                'use INCLUDES(field, "value") or ISBLANK(field)',
                node,
            )
        return self.error(
            f"incorrect argument type for {self.spec.name}: argument {index + 1} must be "
            f"{expected}, not {kinds.label(kind)}",
            node,
        )


class FunctionRegistry:
    """Name → FunctionSpec, case-insensitive. ``copy()`` before extending a shared one."""

    def __init__(self, specs: dict[str, FunctionSpec] | None = None, *, frozen: bool = False):
        self._specs: dict[str, FunctionSpec] = dict(specs or {})
        self._frozen = frozen

    def copy(self) -> FunctionRegistry:
        return FunctionRegistry(self._specs)

    def freeze(self) -> FunctionRegistry:
        self._frozen = True
        return self

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.upper() in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._specs))

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name.upper())

    def suggest(self, name: str) -> str | None:
        matches = difflib.get_close_matches(name.upper(), list(self._specs), n=1, cutoff=0.6)
        return matches[0] if matches else None

    def register(
        self,
        spec_or_name: FunctionSpec | str,
        implementation: Callable[..., Any] | None = None,
        *,
        replace_existing: bool = False,
        **options: Any,
    ) -> FunctionSpec:
        """Add a function: a ready ``FunctionSpec``, or a name, a callable and the
        keyword options of :meth:`function`. Re-registering a name needs
        ``replace_existing=True`` so that two plugins cannot silently clash."""
        if self._frozen:
            raise RuntimeError(
                "this function registry is shared and frozen; register on a copy (registry.copy())"
            )
        if isinstance(spec_or_name, FunctionSpec):
            spec = spec_or_name
        else:
            if implementation is None:
                raise TypeError("register(name, implementation, ...) needs an implementation")
            spec = _build_spec(spec_or_name, implementation, **options)
        spec = replace(spec, name=spec.name.upper())
        if not spec.name.replace("_", "").isalnum() or spec.name[0].isdigit():
            raise ValueError(f"invalid function name {spec.name!r}")
        if spec.name in self._specs and not replace_existing:
            raise ValueError(
                f"function {spec.name} is already registered "
                "(pass replace_existing=True to override it)"
            )
        self._specs[spec.name] = spec
        return spec

    def function(
        self,
        name: str,
        *,
        args: list[str] | tuple[str, ...] | None = None,
        returns: str | Callable[[list[str]], str] = kinds.TEXT,
        **options: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`register`; returns the function unchanged.

        ``args`` lists parameter kinds: ``"number"``, ``"text"``, ``"checkbox"``,
        ``"date"``, ``"datetime"``, ``"time"``, ``"any"``, unions ``"date|datetime"``,
        optional ``"text?"``, repeated ``"*number"``. ``returns`` is a kind name or
        a callable taking the argument kinds. Other options: ``propagate_blank``
        (default True: a blank argument gives a blank result without calling
        you), ``needs_environment`` (receive the evaluation environment first),
        ``lazy``, ``check``, ``sql`` and ``sql_equality`` (see :class:`FunctionSpec`),
        ``description``, ``replace_existing``.
        """

        def decorate(implementation: Callable[..., Any]) -> Callable[..., Any]:
            self.register(name, implementation, args=args, returns=returns, **options)
            return implementation

        return decorate


def _build_spec(
    name: str,
    implementation: Callable[..., Any],
    *,
    args: list[str] | tuple[str, ...] | None = None,
    returns: str | Callable[[list[str]], str] = kinds.TEXT,
    min_arguments: int | None = None,
    max_arguments: int | None = -1,
    **options: Any,
) -> FunctionSpec:
    parameters = tuple(Parameter.parse(text) for text in (args or ()))
    for position, parameter in enumerate(parameters):
        if parameter.variadic and position != len(parameters) - 1:
            raise ValueError("only the last parameter can be repeated ('*kind')")
    required = sum(
        1 for parameter in parameters if not parameter.optional and not parameter.variadic
    )
    if any(parameter.variadic for parameter in parameters):
        maximum = None
        required += 0 if parameters[-1].optional else 1
    else:
        maximum = len(parameters)
    if isinstance(returns, str):
        returns = returns.lower()
        kind = kinds.kind_of_field_type(returns) or (
            returns if returns in kinds.ALL_KINDS else None
        )
        if kind is None:
            raise ValueError(f"unknown result kind {returns!r}")
        returns = kind if returns not in kinds.NUMBER_KINDS else returns
    return FunctionSpec(
        name=name,
        implementation=implementation,
        min_arguments=required if min_arguments is None else min_arguments,
        max_arguments=maximum if max_arguments == -1 else max_arguments,
        parameters=parameters if args is not None else None,
        returns=returns,
        **options,
    )


def check_parameters(spec: FunctionSpec, check: CallCheck) -> None:
    """The declarative argument check used when a spec has ``parameters``."""
    parameters = spec.parameters or ()
    for index, kind in enumerate(check.argument_kinds):
        if not parameters:
            return
        parameter = parameters[min(index, len(parameters) - 1)]
        if index >= len(parameters) and not parameter.variadic:
            return
        if kind not in parameter.accepted:
            raise check.argument_error(index, parameter.description.replace("|", " or "))


# A compile-time form of a call: a closure for the compiler to use, or None to fall back
# to the general call (receives the compiler and the call node).
Specialiser = Callable[[Any, "FunctionCall"], Any]


def specialise(
    implementation: Callable[..., Any],
    specialise: Specialiser,
    *,
    negated: Specialiser | None = None,
) -> None:
    """Attach the compile-time forms of a function to its implementation, where the
    compiler looks them up (``specialise``; ``specialise_negated`` for its NOT)."""
    implementation.__dict__["specialise"] = specialise
    if negated is not None:
        implementation.__dict__["specialise_negated"] = negated
