"""Text functions: BEGINS CONTAINS FIND LEFT RIGHT MID LEN LOWER UPPER LPAD RPAD
SUBSTITUTE TRIM TEXT VALUE REGEX REVERSE INITCAP HYPERLINK BR.

Blank text behaves as "" inside these functions (as in Salesforce); positions
are 1-based; every produced text is capped by ``MAX_TEXT_LENGTH``.
"""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import Numeric, Text, case, cast, func

from trellis.rule_engine import ast, kinds
from trellis.rule_engine.errors import FormulaLimitError, FormulaRuntimeError
from trellis.rule_engine.functions.patterns import PatternError, bounded_pattern
from trellis.rule_engine.functions.registry import CallCheck, FunctionRegistry, check_parameters
from trellis.rule_engine.functions.sql_helpers import integer, text_or_empty
from trellis.rule_engine.values import (
    MAX_TEXT_LENGTH,
    format_value,
    integer_argument,
    parse_number,
)


def compile_java_regex(pattern: str) -> Any:
    """Compile a Java-style pattern within the REGEX limits (cached), or raise
    ``FormulaRuntimeError`` naming what is wrong with it.

    ``regex`` (VERSION1) accepts inline flags such as ``(?i)`` anywhere in the
    pattern, scoped from that point like Java (``re`` rejects them
    mid-pattern), and Java's class intersections such as ``[a-z&&[^aeiou]]``.
    Matching runs with a timeout against catastrophic backtracking.
    """
    try:
        return bounded_pattern(pattern)
    except PatternError as error:
        raise FormulaRuntimeError(error.message) from None


def _text(value: Any) -> str:
    return "" if value is None else value


def register(registry: FunctionRegistry) -> None:
    """Register the text functions, one sub-family at a time."""
    _register_search(registry)
    _register_slicing(registry)
    _register_letters(registry)
    _register_editing(registry)
    _register_conversions(registry)
    _register_patterns(registry)
    _register_markup(registry)


def _register_search(registry: FunctionRegistry) -> None:
    """BEGINS, CONTAINS, FIND: where one text occurs in another."""

    @registry.function(
        "BEGINS",
        args=["text", "text"],
        returns="checkbox",
        propagate_blank=False,
        sql=lambda c, n, a: func.starts_with(text_or_empty(a[0]), text_or_empty(a[1])),
        description="TRUE when the text starts with compare_text (case-sensitive)",
    )
    def begins(text: Any, prefix: Any) -> bool:
        return _text(text).startswith(_text(prefix))

    @registry.function(
        "CONTAINS",
        args=["text", "text"],
        returns="checkbox",
        propagate_blank=False,
        sql=lambda c, n, a: func.strpos(text_or_empty(a[0]), text_or_empty(a[1])) > 0,
        description="TRUE when compare_text occurs in the text (case-sensitive)",
    )
    def contains(text: Any, part: Any) -> bool:
        return _text(part) in _text(text)

    @registry.function(
        "FIND",
        args=["text", "text", "number?"],
        returns="number",
        propagate_blank=False,
        description="FIND(search, text[, start]): 1-based position, 0 when absent",
    )
    def find(search: Any, text: Any, start: Any = None) -> int:
        search, text = _text(search), _text(text)
        begin = 1 if start is None else integer_argument(start, "start position", 10**9)
        if not search or not text or begin < 1 or begin > len(text):
            return 0
        return text.find(search, begin - 1) + 1


def _register_slicing(registry: FunctionRegistry) -> None:
    """LEFT, RIGHT, MID, LEN: parts of a text and its length."""

    @registry.function(
        "LEFT",
        args=["text", "number"],
        returns="text",
        sql=lambda c, n, a: func.left(a[0], func.greatest(integer(a[1]), 0)),
        description="The first num_chars characters (negative counts as 0)",
    )
    def left(text: str, count: Any) -> str:
        return text[: max(0, integer_argument(count, "character count", 10**9))]

    @registry.function(
        "RIGHT",
        args=["text", "number"],
        returns="text",
        sql=lambda c, n, a: func.right(a[0], func.greatest(integer(a[1]), 0)),
        description="The last num_chars characters (negative counts as 0)",
    )
    def right(text: str, count: Any) -> str:
        number = max(0, integer_argument(count, "character count", 10**9))
        return text[len(text) - number :] if number else ""

    @registry.function(
        "MID",
        args=["text", "number", "number"],
        returns="text",
        sql=_mid_sql,
        description="MID(text, start, num_chars): num_chars characters from start (1-based)",
    )
    def mid(text: str, start: Any, count: Any) -> str:
        begin = max(1, integer_argument(start, "start position", 10**9))
        number = max(0, integer_argument(count, "character count", 10**9))
        return text[begin - 1 : begin - 1 + number]

    @registry.function(
        "LEN",
        args=["text"],
        returns="number",
        propagate_blank=False,
        sql=lambda c, n, a: cast(func.char_length(text_or_empty(a[0])), Numeric),
        description="Number of characters; 0 for blank",
    )
    def length(text: Any) -> int:
        return len(_text(text))


def _register_letters(registry: FunctionRegistry) -> None:
    """LOWER, UPPER, TRIM, REVERSE, INITCAP: the text recased, trimmed or reordered."""

    @registry.function(
        "LOWER",
        args=["text", "text?"],
        returns="text",
        sql=lambda c, n, a: func.lower(a[0]),
        description="Lower case (the optional locale argument is accepted)",
    )
    def lower(text: str, locale: Any = None) -> str:
        return text.lower()

    @registry.function(
        "UPPER",
        args=["text", "text?"],
        returns="text",
        sql=lambda c, n, a: func.upper(a[0]),
        description="Upper case (the optional locale argument is accepted)",
    )
    def upper(text: str, locale: Any = None) -> str:
        return text.upper()

    @registry.function(
        "TRIM",
        args=["text"],
        returns="text",
        sql=lambda c, n, a: func.btrim(a[0], " \t"),
        description="Remove leading and trailing spaces and tabs",
    )
    def trim(text: str) -> str:
        return text.strip(" \t")

    @registry.function(
        "REVERSE", args=["text"], returns="text", description="The characters in reverse order"
    )
    def reverse(text: str) -> str:
        return text[::-1]

    @registry.function(
        "INITCAP",
        args=["text"],
        returns="text",
        description="First letter of each word upper case, the rest lower case",
    )
    def initcap(text: str) -> str:
        result = []
        at_word_start = True
        for char in text:
            result.append(char.upper() if at_word_start else char.lower())
            at_word_start = char.isspace()
        return "".join(result)


def _register_editing(registry: FunctionRegistry) -> None:
    """LPAD, RPAD, SUBSTITUTE: characters added or replaced, within the length cap."""

    def pad(text: Any, length: Any, padding: Any, on_left: bool) -> str:
        text = _text(text)
        size = integer_argument(length, "padded length", MAX_TEXT_LENGTH)
        if size <= 0:
            return ""
        if len(text) >= size:
            return text[:size]  # Salesforce truncates from the right in both LPAD and RPAD
        padding = " " if padding is None else padding
        if not padding:
            return text
        fill = (padding * ((size - len(text)) // len(padding) + 1))[: size - len(text)]
        return fill + text if on_left else text + fill

    @registry.function(
        "LPAD",
        args=["text", "number", "text?"],
        returns="text",
        propagate_blank=False,
        description="LPAD(text, length[, pad]): pad on the left, truncate if longer",
    )
    def lpad(text: Any, length: Any, padding: Any = None) -> Any:
        return None if length is None else pad(text, length, padding, True)

    @registry.function(
        "RPAD",
        args=["text", "number", "text?"],
        returns="text",
        propagate_blank=False,
        description="RPAD(text, length[, pad]): pad on the right, truncate if longer",
    )
    def rpad(text: Any, length: Any, padding: Any = None) -> Any:
        return None if length is None else pad(text, length, padding, False)

    @registry.function(
        "SUBSTITUTE",
        args=["text", "text", "text"],
        returns="text",
        propagate_blank=False,
        sql=_substitute_sql,
        description="SUBSTITUTE(text, old, new): replace every occurrence",
    )
    def substitute(text: Any, old: Any, new: Any) -> Any:
        if text is None:
            return None
        if not old:
            return text
        new = _text(new)
        growth = text.count(old) * (len(new) - len(old)) if len(new) > len(old) else 0
        if len(text) + growth > MAX_TEXT_LENGTH:
            raise FormulaRuntimeError(f"the text would be longer than {MAX_TEXT_LENGTH} characters")
        return text.replace(old, new)


def _register_conversions(registry: FunctionRegistry) -> None:
    """TEXT and VALUE: other values as text, and numbers read from text."""

    def check_text(check: CallCheck) -> str:
        kind = check.argument_kinds[0]
        if kind in (kinds.CHECKBOX, kinds.MULTI_PICKLIST):
            raise check.argument_error(0, "a number, date, date/time, time, picklist or text")
        return kinds.TEXT

    registry.register(
        "TEXT",
        format_value,
        check=check_text,
        min_arguments=1,
        max_arguments=1,
        returns=kinds.TEXT,
        sql=_text_sql,
        signature="TEXT(value)",
        description="Text form of a number, date (YYYY-MM-DD), date/time "
        "(YYYY-MM-DD HH:MM:SSZ, UTC), time or picklist value",
    )

    @registry.function(
        "VALUE",
        args=["text"],
        returns="number",
        description="The number written in the text; an error if it is not one",
    )
    def value(text: str) -> Any:
        return parse_number(text)


def _register_patterns(registry: FunctionRegistry) -> None:
    """REGEX: a whole-text match against a bounded Java-style pattern."""

    def check_regex(check: CallCheck) -> str:
        """A constant pattern is compiled now, so that a rule whose pattern could never
        match (invalid, or beyond the REGEX limits) is refused when it is saved."""
        check_parameters(check.spec, check)
        pattern = check.call.arguments[1]
        if isinstance(pattern, ast.TextLiteral):
            try:
                bounded_pattern(pattern.value)
            except PatternError as error:
                if not error.too_costly:
                    raise check.error(error.message, pattern) from None
                span = pattern.span
                raise FormulaLimitError(
                    error.message,
                    line=span.line,
                    column=span.column,
                    end_line=span.end_line,
                    end_column=span.end_column,
                ) from None
        return kinds.CHECKBOX

    # No ``sql=``: REGEX stays out of SQL (a where= filter using it is refused with
    # FormulaSqlError). PostgreSQL's ``~`` speaks another dialect (no Java inline
    # flags or class intersections, so results would differ from evaluate()), and
    # its pattern compile is bounded by nothing we set: a pattern read from a
    # column, different on every row, would be compiled inside the database with
    # none of the limits above.
    @registry.function(
        "REGEX",
        args=["text", "text"],
        returns="checkbox",
        check=check_regex,
        propagate_blank=False,
        needs_environment=True,
        description="TRUE when the WHOLE text matches the Java-style pattern",
    )
    def regex_match(environment: Any, text: Any, pattern: Any) -> bool:
        compiled = compile_java_regex(_text(pattern))
        subject = _text(text)
        environment.charge(1 + len(subject) // 100)
        try:
            return compiled.fullmatch(subject, timeout=environment.regex_timeout) is not None
        except TimeoutError:
            raise FormulaRuntimeError("the regular expression took too long on this text") from None


def _register_markup(registry: FunctionRegistry) -> None:
    """HYPERLINK and BR: HTML for formula fields shown on a page."""

    @registry.function(
        "HYPERLINK",
        args=["text", "text", "text?"],
        returns="text",
        propagate_blank=False,
        description="HYPERLINK(url, label[, target]): an HTML link (escaped)",
    )
    def hyperlink(url: Any, label: Any, target: Any = None) -> Any:
        if not url:
            return None
        address = _text(url).strip()
        if (
            address.lower()
            .replace("\t", "")
            .replace("\n", "")
            .startswith(("javascript:", "data:", "vbscript:"))
        ):
            address = "#"
        target_attribute = f' target="{html.escape(target)}"' if target else ""
        return (
            f'<a href="{html.escape(address)}"{target_attribute}>'
            f"{html.escape(_text(label) or _text(url))}</a>"
        )

    @registry.function("BR", args=[], returns="text", description="A line break (<br>)")
    def line_break() -> str:
        return "<br>"


# SQL forms, given to the functions above as ``sql=`` (see sql_helpers).


def _mid_sql(compiler: Any, node: Any, args: list) -> Any:
    return func.substr(
        args[0], func.greatest(integer(args[1]), 1), func.greatest(integer(args[2]), 0)
    )


def _substitute_sql(compiler: Any, node: Any, args: list) -> Any:
    text, old, new = args
    return case((text_or_empty(old) == "", text), else_=func.replace(text, old, text_or_empty(new)))


def _text_sql(compiler: Any, node: Any, args: list) -> Any:
    kind = compiler.kind(node.arguments[0])
    value = args[0]
    if kind in kinds.NUMBER_KINDS:
        return cast(func.trim_scale(value), Text)
    if kind == kinds.DATE:
        return func.to_char(value, "YYYY-MM-DD")
    if kind == kinds.DATETIME:
        return func.to_char(func.timezone("UTC", value), 'YYYY-MM-DD HH24:MI:SS"Z"')
    if kind in (kinds.TEXT, kinds.PICKLIST, kinds.NULL):
        return cast(value, Text)
    raise compiler.error(f"TEXT of {kinds.label(kind)} is not available in SQL", node)
