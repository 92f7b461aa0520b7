"""Type checker: resolve names and give every node a kind, before anything runs.

Errors name the exact field, function or argument and suggest the closest
known name, so that the rule editor can underline the mistake as it is typed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.errors import FormulaTypeError
from trellis.rule_engine.functions.registry import (
    CallCheck,
    FunctionRegistry,
    FunctionSpec,
    check_parameters,
)


@dataclass(frozen=True)
class FieldInfo:
    """A resolved field: canonical path (as given in ``fields``) and its kind."""

    path: str
    kind: str
    field_type: str


@dataclass
class CheckedFormula:
    """The AST with its annotations: the input of both compilers."""

    root: ast.Node
    kind: str
    kinds: dict[ast.Node, str]
    fields: dict[ast.Node, FieldInfo]
    globals: dict[ast.Node, str]
    functions: dict[ast.Node, FunctionSpec]
    references: frozenset[str]
    uses_prior: bool
    node_count: int
    notes: dict[ast.Node, dict] = field(default_factory=dict)


def _error(message: str, node: ast.Node, suggestion: str | None = None) -> FormulaTypeError:
    span = node.span
    return FormulaTypeError(
        message,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        suggestion=suggestion,
    )


def _closest(name: str, candidates: Mapping[str, str]) -> str | None:
    matches = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.6)
    return candidates[matches[0]] if matches else None


def _hint(suggestion: str | None) -> str:
    return f"; did you mean '{suggestion}'?" if suggestion else ""


def _picklist_message(where: str, node: ast.Node) -> FormulaTypeError:
    return _error(
        f'a picklist value cannot be used {where}; use ISPICKVAL(field, "value") to compare '
        "it, CASE(field, ...) to branch on it, or TEXT(field) to turn it into text",
        node,
    )


def _multi_picklist_message(node: ast.Node) -> FormulaTypeError:
    return _error(
        "a multi-select picklist can only be used in INCLUDES, ISBLANK, ISNULL, "
        "ISCHANGED and PRIORVALUE",
        node,
    )


class TypeChecker:
    """Walks the AST once; the parser's depth limit keeps the recursion shallow."""

    def __init__(
        self,
        fields: Mapping[str, str],
        registry: FunctionRegistry,
        global_types: Mapping[str, str] | None,
        allow_prior: bool,
    ) -> None:
        self.registry = registry
        self.allow_prior = allow_prior
        self.field_index: dict[str, tuple[str, str]] = {}
        for name, field_type in kinds.SYSTEM_FIELDS.items():
            self.field_index[name] = (name, field_type)
        for path, field_type in (fields or {}).items():
            self.field_index[str(path).lower()] = (str(path), field_type)
        self.global_index = {
            name.lower(): (name, field_type)
            for name, field_type in {**kinds.DEFAULT_GLOBAL_TYPES, **(global_types or {})}.items()
        }
        # The root is a placeholder until check() sets it.
        self.result = CheckedFormula(None, kinds.NULL, {}, {}, {}, {}, frozenset(), False, 0)  # type: ignore[arg-type]
        self._references: set[str] = set()

    def check(self, root: ast.Node) -> CheckedFormula:
        kind = self.visit(root)
        if kind == kinds.PICKLIST:
            raise _picklist_message("as the result of a formula", root)
        if kind == kinds.MULTI_PICKLIST:
            raise _multi_picklist_message(root)
        self.result.root = root
        self.result.kind = kind
        self.result.references = frozenset(self._references)
        return self.result

    def visit(self, node: ast.Node) -> str:
        self.result.node_count += 1
        if isinstance(node, ast.NumberLiteral):
            kind = kinds.NUMBER
        elif isinstance(node, ast.TextLiteral):
            kind = kinds.TEXT
        elif isinstance(node, ast.BooleanLiteral):
            kind = kinds.CHECKBOX
        elif isinstance(node, ast.NullLiteral):
            kind = kinds.NULL
        elif isinstance(node, ast.FieldReference):
            kind = self._field(node)
        elif isinstance(node, ast.GlobalReference):
            kind = self._global(node)
        elif isinstance(node, ast.UnaryOperation):
            kind = self._unary(node)
        elif isinstance(node, ast.BinaryOperation):
            kind = self._binary(node)
        else:
            kind = self._call(node)
        self.result.kinds[node] = kind
        return kind

    # --- names ---------------------------------------------------------------

    def _resolve_field(self, path: str) -> tuple[str, str] | None:
        lowered = path.lower()
        found = self.field_index.get(lowered)
        if found is None:
            head, _, last = lowered.rpartition(".")
            alias = kinds.SYSTEM_FIELD_ALIASES.get(last)
            if alias is not None:
                found = self.field_index.get(f"{head}.{alias}" if head else alias)
        return found

    def _field(self, node: ast.FieldReference) -> str:
        found = self._resolve_field(node.path)
        if found is None:
            candidates = {key: canonical for key, (canonical, _) in self.field_index.items()}
            for alias in kinds.SYSTEM_FIELD_ALIASES:
                candidates.setdefault(alias, alias)
            suggestion = None
            if node.path.upper() in self.registry:
                hint = f"; {node.path.upper()} is a function: call it as {node.path.upper()}(...)"
            else:
                suggestion = _closest(node.path, candidates)
                hint = _hint(suggestion)
            raise _error(f"unknown field '{node.path}'{hint}", node, suggestion)
        canonical, field_type = found
        kind = kinds.kind_of_field_type(field_type)
        if kind is None:
            raise _error(
                f"field '{canonical}' has type '{field_type}', which formulas cannot use", node
            )
        self.result.fields[node] = FieldInfo(canonical, kind, field_type)
        self._references.add(canonical)
        return kind

    def _global(self, node: ast.GlobalReference) -> str:
        found = self.global_index.get(node.name.lower())
        if found is None:
            candidates = {key: name for key, (name, _) in self.global_index.items()}
            suggestion = _closest(node.name, candidates)
            raise _error(f"unknown global '{node.name}'{_hint(suggestion)}", node, suggestion)
        name, field_type = found
        kind = kinds.kind_of_field_type(field_type)
        if kind is None:
            raise _error(f"global '{name}' has unsupported type '{field_type}'", node)
        self.result.globals[node] = name
        return kind

    # --- operators -----------------------------------------------------------

    def _unary(self, node: ast.UnaryOperation) -> str:
        kind = self.visit(node.operand)
        if node.operator == "NOT":
            if kind not in (kinds.CHECKBOX, kinds.NULL):
                raise self._operand_error("NOT", "Checkbox", kind, node.operand)
            return kinds.CHECKBOX
        if kind == kinds.NULL:
            return kinds.NUMBER
        if kind not in kinds.NUMBER_KINDS:
            raise self._operand_error(node.operator, "Number", kind, node.operand)
        return kind

    def _operand_error(
        self, operator: str, expected: str, kind: str, node: ast.Node
    ) -> FormulaTypeError:
        if kind == kinds.PICKLIST:
            return _picklist_message(f"with the operator '{operator}'", node)
        if kind == kinds.MULTI_PICKLIST:
            return _multi_picklist_message(node)
        return _error(
            f"incorrect type for operator '{operator}': expected {expected}, "
            f"received {kinds.label(kind)}",
            node,
        )

    def _binary(self, node: ast.BinaryOperation) -> str:
        """Walk the left operand chain iteratively (``a + b + c + ...`` can be long)."""
        innermost, spine = ast.left_spine(node)
        kind = self.visit(innermost)
        for item in spine:
            kind = self._binary_kind(item, kind, self.visit(item.right))
            if item is not node:
                self.result.kinds[item] = kind
                self.result.node_count += 1
        return kind

    def _binary_kind(self, node: ast.BinaryOperation, left: str, right: str) -> str:
        operator = node.operator
        for kind, operand in ((left, node.left), (right, node.right)):
            if kind == kinds.PICKLIST:
                raise _picklist_message(f"with the operator '{operator}'", operand)
            if kind == kinds.MULTI_PICKLIST:
                raise _multi_picklist_message(operand)
        if operator in ("&&", "||"):
            for kind, operand in ((left, node.left), (right, node.right)):
                if kind not in (kinds.CHECKBOX, kinds.NULL):
                    raise self._operand_error(operator, "Checkbox", kind, operand)
            return kinds.CHECKBOX
        if operator in ("=", "<>", "<", "<=", ">", ">="):
            if not kinds.compatible(left, right):
                raise _error(
                    f"cannot compare {kinds.label(left)} with {kinds.label(right)} "
                    f"using '{operator}'",
                    node,
                )
            if operator not in ("=", "<>") and kinds.CHECKBOX in (left, right):
                raise _error(f"checkbox values cannot be ordered with '{operator}'", node)
            return kinds.CHECKBOX
        if operator == "&":
            for kind, operand in ((left, node.left), (right, node.right)):
                if kind not in (kinds.TEXT, kinds.NULL):
                    raise _error(
                        f"incorrect type for operator '&': expected Text, received "
                        f"{kinds.label(kind)} (use TEXT() to convert)",
                        operand,
                    )
            return kinds.TEXT
        if operator == "+" and kinds.TEXT in (left, right):
            if {left, right} <= {kinds.TEXT, kinds.NULL}:
                return kinds.TEXT
            raise _error(
                f"cannot add {kinds.label(left)} and {kinds.label(right)}; "
                "use TEXT() to join numbers to text",
                node,
            )
        result = _ARITHMETIC.get((operator, _family(left), _family(right)))
        if result is None:
            raise _error(
                f"incorrect types for operator '{operator}': "
                f"{kinds.label(left)} {operator} {kinds.label(right)}",
                node,
            )
        if result == "numeric":
            return _numeric_result(operator, left, right)
        return result

    # --- functions -----------------------------------------------------------

    def _call(self, node: ast.FunctionCall) -> str:
        spec = self.registry.get(node.name)
        if spec is None:
            suggestion = self.registry.suggest(node.name)
            hint = f"; did you mean {suggestion}?" if suggestion else ""
            raise FormulaTypeError(
                f"unknown function {node.name}{hint}",
                line=node.name_span.line,
                column=node.name_span.column,
                end_line=node.name_span.end_line,
                end_column=node.name_span.end_column,
                suggestion=suggestion,
            )
        count = len(node.arguments)
        if count < spec.min_arguments or (
            spec.max_arguments is not None and count > spec.max_arguments
        ):
            raise _error(
                f"incorrect number of arguments for {spec.name}: expected "
                f"{_arity(spec)}, received {count}",
                node,
            )
        if spec.uses_prior and not self.allow_prior:
            raise _error(
                f"{spec.name} is only available where a prior version of the record "
                "exists (validation rules and automation conditions)",
                node,
            )
        if spec.uses_prior:
            self.result.uses_prior = True
        argument_kinds = [self.visit(argument) for argument in node.arguments]
        check = CallCheck(node, argument_kinds, spec)
        if spec.check is not None:
            kind = spec.check(check)
        else:
            check_parameters(spec, check)
            for index, kind in enumerate(argument_kinds):
                if kind in (kinds.PICKLIST, kinds.MULTI_PICKLIST) and (
                    spec.parameters is None or not spec.parameters
                ):
                    raise check.argument_error(index, "a value")
            kind = spec.result_kind(argument_kinds)
        self.result.functions[node] = spec
        if check.notes:
            self.result.notes[node] = check.notes
        return kind


def _arity(spec: FunctionSpec) -> str:
    if spec.max_arguments is None:
        return f"at least {spec.min_arguments}"
    if spec.min_arguments == spec.max_arguments:
        return str(spec.min_arguments)
    return f"{spec.min_arguments} to {spec.max_arguments}"


def _family(kind: str) -> str:
    if kind in kinds.NUMBER_KINDS:
        return "number"
    return kind


_ARITHMETIC: dict[tuple[str, str, str], str] = {}
for _operator in ("+", "-", "*", "/", "^"):
    for _pair in (("number", "number"), ("number", "null"), ("null", "number"), ("null", "null")):
        _ARITHMETIC[(_operator, *_pair)] = "numeric"
for _temporal in (kinds.DATE, kinds.DATETIME, kinds.TIME):
    for _other in ("number", "null"):
        _ARITHMETIC[("+", _temporal, _other)] = _temporal
        _ARITHMETIC[("+", _other, _temporal)] = _temporal
        _ARITHMETIC[("-", _temporal, _other)] = _temporal
    _ARITHMETIC[("-", _temporal, _temporal)] = kinds.NUMBER
    _ARITHMETIC[("-", _temporal, "null")] = _temporal


def _numeric_result(operator: str, left: str, right: str) -> str:
    """Keep currency/percent where the meaning survives (a sum of amounts is an amount)."""
    left = kinds.NUMBER if left == kinds.NULL else left
    right = kinds.NUMBER if right == kinds.NULL else right
    if operator in ("+", "-") and left == right:
        return left
    if operator in ("+", "-", "*") and {left, right} == {kinds.CURRENCY, kinds.NUMBER}:
        return kinds.CURRENCY
    if operator == "/" and left == kinds.CURRENCY and right == kinds.NUMBER:
        return kinds.CURRENCY
    return kinds.NUMBER
