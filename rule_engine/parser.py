"""Parse formula source into AST nodes.

The grammar lives in ``grammar.lark`` and is loaded once per process; valid
formulas are parsed by :class:`~trellis.rule_engine.lalr.LalrRunner` straight
from Lark's tables (several times faster than Lark's own driver), invalid ones
by Lark, for its detailed errors. Limits are checked *before* parsing (length,
parenthesis depth) and while building the AST (expression depth), so that
neither the LALR parser nor any later recursive pass can ever hit
``RecursionError``. The AST is built by :mod:`~trellis.rule_engine.ast_builder`;
Lark's exceptions become ``FormulaSyntaxError`` with a message aimed at the
person typing the formula (:mod:`~trellis.rule_engine.syntax_errors`).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import cast

from lark import Lark
from lark.exceptions import UnexpectedInput, VisitError

from trellis.rule_engine import ast
from trellis.rule_engine.ast_builder import AstBuilder, reset_depths
from trellis.rule_engine.errors import FormulaError, FormulaLimitError, FormulaSyntaxError
from trellis.rule_engine.lalr import LalrRunner, NoParse
from trellis.rule_engine.limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH
from trellis.rule_engine.syntax_errors import friendly_syntax_error

log = logging.getLogger(__name__)


@functools.cache
def _building_lark() -> Lark:
    """The grammar with the AST builder applied during the LALR reductions
    (no intermediate parse tree: about twice as fast, and never recursive)."""
    return Lark.open(
        "grammar.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="basic",
        maybe_placeholders=True,
        transformer=AstBuilder(),
    )


@functools.cache
def _runner() -> LalrRunner | None:
    """The fast path: the same tables and AST builder, run by :class:`LalrRunner`.

    It reads a few Lark internals (the scanner's terminals, the parse table): should
    a Lark release change them, formulas are still parsed, by Lark, only slower."""
    try:
        return LalrRunner(_building_lark())
    except Exception:  # pragma: no cover - depends on the installed Lark
        log.warning(
            "formula parser: Lark's tables are not usable directly; "
            "parsing with Lark itself (slower)",
            exc_info=True,
        )
        return None


# A comment body cannot contain "*/" (a lazy ".*?" would, to make fullmatch succeed:
# "/* a */ x /* b */" would then count as one comment, and the formula as empty).
_COMMENTS_AND_SPACE = re.compile(r"(?:/\*(?:[^*]|\*(?!/))*\*/|\s)*")


def parse(
    source: str, *, max_length: int = DEFAULT_MAX_LENGTH, max_depth: int = DEFAULT_MAX_DEPTH
) -> ast.Node:
    """Parse ``source`` into an AST, enforcing the size limits first."""
    if not isinstance(source, str):
        raise FormulaSyntaxError("the formula must be text")
    if len(source) > max_length:
        raise FormulaLimitError(
            f"the formula is {len(source)} characters long; the limit is {max_length}",
            line=1,
            column=1,
            source=source,
        )
    # Nesting deeper than max_depth needs more than max_depth '(' characters: most
    # formulas have far fewer, and then the character-by-character scan is skipped.
    if source.count("(") > max_depth:
        _check_parenthesis_depth(source, max_depth)
    if _COMMENTS_AND_SPACE.fullmatch(source):
        raise FormulaSyntaxError("the formula is empty", line=1, column=1, source=source)
    runner = _runner()
    if runner is not None:
        reset_depths()
        try:
            return runner.parse(source)
        except NoParse:
            pass  # not valid: Lark parses it again below and its exception says why
    return _parse_with_lark(source)


def _parse_with_lark(source: str) -> ast.Node:
    """Lark's own parse, for the friendly error (and the result, should it succeed)."""
    reset_depths()
    try:
        # With a transformer applied during parsing, Lark returns what it builds.
        return cast(ast.Node, _building_lark().parse(source))
    except UnexpectedInput as error:
        raise friendly_syntax_error(source, error) from None
    except VisitError as error:
        original = error.orig_exc
        if isinstance(original, FormulaError):
            raise original.with_source(source) from None
        raise FormulaSyntaxError(f"invalid formula: {original}", source=source) from None
    except RecursionError:  # pragma: no cover - the limits above prevent it
        raise FormulaLimitError("the formula is nested too deeply", source=source) from None


def _check_parenthesis_depth(source: str, max_depth: int) -> None:
    """Cheap scan that rejects deep nesting before Lark sees it."""
    depth = 0
    line, column = 1, 1
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char in "\"'":  # skip string literals (escapes included)
            index += 1
            column += 1
            while index < length and source[index] != char:
                step = 2 if source[index] == "\\" else 1
                for consumed in source[index : index + step]:
                    line, column = (line + 1, 1) if consumed == "\n" else (line, column + 1)
                index += step
        elif char == "/" and source.startswith("/*", index):
            end = source.find("*/", index + 2)
            end = length if end < 0 else end + 2
            for consumed in source[index:end]:
                line, column = (line + 1, 1) if consumed == "\n" else (line, column + 1)
            index = end
            continue
        elif char == "(":
            depth += 1
            if depth > max_depth:
                raise FormulaLimitError(
                    f"the formula nests parentheses and function calls more than {max_depth} "
                    "levels deep",
                    line=line,
                    column=column,
                    end_line=line,
                    end_column=column + 1,
                    source=source,
                )
        elif char == ")":
            depth = max(0, depth - 1)
        if index < length:
            line, column = (line + 1, 1) if source[index] == "\n" else (line, column + 1)
        index += 1
