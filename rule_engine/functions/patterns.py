"""REGEX patterns: measured before they are compiled, compiled once, cached within bounds.

Matching has a timeout; compiling cannot be interrupted, and the ``regex`` package
unrolls the minimum count of every repeat when it compiles, so
``(?:a{1000}){3000}`` costs a gigabyte and minutes before one character is
matched. A pattern therefore has to pass the limits of
:mod:`trellis.rule_engine.limits` (length, each repeat count, the product of
nested counts, the unrolled size) before ``regex.compile`` sees it.

The repeats are measured on the parse tree of the ``regex`` package's own
parser, not on a second grammar. ``re._parser`` (sre_parse) was the other
candidate, but the syntax REGEX offers is the ``regex`` package's: ``re`` refuses
valid patterns (``ABC(?i)DEF``, ``\\p{L}``, ``(?<name>...)``) and reads others
differently (``x{,5}``, ``(?:ab){e<=1}``, nested classes ``[a-z&&[^aeiou]]``,
verbose-mode comments), and every disagreement is a way to hide a repeat from
the measure. The same objection holds for a hand-written scanner of braces,
escapes and classes. The parse tree is exact by construction: escaped braces
and braces inside classes are literals there, ``{n,}`` and ``{,m}`` are
repeats. It is a private module; the import below fails loudly if a release
renames it, and the tests measure known patterns. Parsing alone is linear in
the (bounded) pattern length: only the later compile step unrolls.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import regex
from regex import _regex_core as _typed_core

from trellis.rule_engine.limits import (
    REGEX_CACHE_SIZE,
    REGEX_MAX_PATTERN_LENGTH,
    REGEX_MAX_REPEAT,
    REGEX_MAX_REPEAT_PRODUCT,
    REGEX_MAX_UNROLLED,
)

# The parser behind regex.compile is private and its stubs do not describe it: typed as Any.
_regex_core: Any = _typed_core
FLAGS = regex.VERSION1
"""Java-like: inline flags such as ``(?i)`` anywhere, scoped from that point, and
class set operations such as ``[a-z&&[^aeiou]]``."""


class PatternError(Exception):
    """A pattern REGEX refuses: ``too_costly`` tells a limit from a mistake."""

    def __init__(self, message: str, *, too_costly: bool) -> None:
        super().__init__(message)
        self.message = message
        self.too_costly = too_costly


@functools.lru_cache(maxsize=REGEX_CACHE_SIZE)
def bounded_pattern(pattern: str) -> Any:
    """The compiled pattern, or ``PatternError``. Refusals are not cached (they are
    cheap to find again); ``regex``'s own cache (500 entries of any size) is bypassed."""
    measure(pattern)
    try:
        return regex.compile(pattern, FLAGS, cache_pattern=False)
    except RecursionError:
        raise _nested_too_deeply() from None
    except (regex.error, OverflowError, ValueError) as error:
        raise PatternError(f"invalid regular expression: {error}", too_costly=False) from None


def measure(pattern: str) -> None:
    """Raise ``PatternError`` unless ``pattern`` is within every REGEX limit."""
    if len(pattern) > REGEX_MAX_PATTERN_LENGTH:
        raise PatternError(
            f"the regular expression is {len(pattern)} characters long; "
            f"the limit is {REGEX_MAX_PATTERN_LENGTH}",
            too_costly=True,
        )
    unrolled = 0
    # Each node with the product of the counts around it and the number of compiled
    # copies of it that product stands for.
    pending = [(_parse(pattern), 1, 1)]
    while pending:  # iterative: nesting depth is the pattern's to choose
        node, product, copies = pending.pop()
        if copies > 1:
            unrolled += copies
        if isinstance(node, _regex_core.GreedyRepeat):  # also lazy and possessive
            bound = _repeat_bound(node)
            product *= max(bound, 1)
            if product > REGEX_MAX_REPEAT_PRODUCT:
                raise PatternError(
                    f"the nested repeats of the regular expression multiply to {product}; "
                    f"the limit is {REGEX_MAX_REPEAT_PRODUCT}",
                    too_costly=True,
                )
            copies *= max(bound, 1) + (1 if node.min_count >= 1 else 0)
        pending.extend((child, product, copies) for child in _children(node))
    if unrolled > REGEX_MAX_UNROLLED:
        raise PatternError(
            f"the regular expression's repeats unroll to {unrolled} parts; "
            f"the limit is {REGEX_MAX_UNROLLED}",
            too_costly=True,
        )


def _repeat_bound(node: Any) -> int:
    """The count that bounds a repeat: the maximum of ``{n,m}``, the minimum of
    ``{n,}`` (what ``regex`` unrolls), 0 or 1 for ``*``, ``+`` and ``?``.

    Compiling costs more copies than that: ``regex`` unrolls the minimum and keeps
    one more copy of the body for the rest, so ``x{3}`` costs about four copies
    of ``x`` and ``x+`` two, and nested ``+`` double the work at every level. The
    unrolled size counts those copies; ``*``, ``?`` and ``{0,m}`` bodies count once.
    """
    bound = node.min_count if node.max_count is None else node.max_count
    if bound > REGEX_MAX_REPEAT:
        raise PatternError(
            f"the regular expression repeats something {bound} times; "
            f"the limit is {REGEX_MAX_REPEAT}",
            too_costly=True,
        )
    return bound


def _parse(pattern: str) -> Any:
    """The ``regex`` parse tree, as ``regex.compile`` builds it before compiling.

    A global flag met mid-pattern (``(?x)`` turns on verbose mode) makes the parser
    start again with it, as ``regex.compile`` does; flags only accumulate, so
    this ends after a few rounds.
    """
    flags = FLAGS
    for _ in range(8):
        source = _regex_core.Source(pattern)
        info = _regex_core.Info(flags, source.char_type, {})
        info.guess_encoding = regex.UNICODE
        source.ignore_space = bool(info.flags & regex.VERBOSE)
        try:
            tree = _regex_core._parse_pattern(source, info)
        except _regex_core._UnscopedFlagSet:
            flags = info.global_flags
        except RecursionError:
            raise _nested_too_deeply() from None
        except (regex.error, OverflowError, ValueError) as error:
            raise PatternError(f"invalid regular expression: {error}", too_costly=False) from None
        if not source.at_end():  # the parser stops at a stray ")": the rest is unmeasured
            raise PatternError(
                f"invalid regular expression: unbalanced parenthesis at position {source.pos}",
                too_costly=False,
            )
        return tree
    raise PatternError("invalid regular expression: conflicting global flags", too_costly=False)


def _children(node: Any) -> Iterator[Any]:
    """The sub-patterns of a parse-tree node, whatever its class calls them
    (``subpattern``, ``items``, ``branches``, ``yes_item``...): reading them all
    generically means no node kind can carry a repeat past the measure."""
    for value in vars(node).values():
        if isinstance(value, _regex_core.RegexBase):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (item for item in value if isinstance(item, _regex_core.RegexBase))


def _nested_too_deeply() -> PatternError:
    return PatternError("the regular expression is nested too deeply", too_costly=True)
