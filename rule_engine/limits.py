"""Every limit of the formula language, in one place.

A formula is typed by administrators and, through field values, fed by anyone
who may write a record, so everything that could cost unbounded time or memory
has a ceiling here. The modules that enforce a limit import it from here; the
README's "Limits" section describes them.
"""

from __future__ import annotations

# --- source ------------------------------------------------------------------

DEFAULT_MAX_LENGTH = 5000
"""Salesforce allows 3,900 characters; Trellis accepts a little more by default."""

DEFAULT_MAX_DEPTH = 64
"""Maximum nesting of parentheses and function calls."""

MAX_EXPRESSION_DEPTH = 200
"""Hard cap on AST depth (long operator chains, unary runs): keeps every
recursive pass (checker, compilers, evaluation) far below Python's recursion
limit whatever the user types."""

# --- evaluation --------------------------------------------------------------

DEFAULT_MAX_STEPS = 100_000
"""Evaluation budget: node count at compile time, data-dependent work at run time."""

MAX_TEXT_LENGTH = 100_000
"""Longest text any operation may produce (LPAD, SUBSTITUTE, concatenation)."""

# --- REGEX -------------------------------------------------------------------

REGEX_TIMEOUT_SECONDS = 0.25
"""How long one REGEX match may run (catastrophic backtracking)."""

REGEX_MAX_PATTERN_LENGTH = 1000
"""Longest REGEX pattern. Compiling is roughly linear in the pattern's length apart
from repeats (bounded below); the slowest 1,000-character patterns found (full case
folding of large Unicode classes) compile in about half a second."""

REGEX_MAX_REPEAT = 1000
"""Largest count in one ``{n}``, ``{n,m}`` or ``{n,}``. The ``regex`` package unrolls
the minimum of every repeat when it compiles: ``a{1000}`` takes about 20 ms and
120 KB, and the cost grows with the count."""

REGEX_MAX_REPEAT_PRODUCT = 1000
"""Largest product of the counts of nested repeats: ``(?:a{1000}){3000}`` unrolls
three million times (gigabytes, minutes) although each count looks modest."""

REGEX_MAX_UNROLLED = 2000
"""Largest size of a pattern once its repeats are unrolled: every part of the
pattern inside a repeat counts the copies of it the compiler makes (``x{n}`` makes
n + 1, ``x+`` two, so nested ``+`` double at every level). Keeps sibling repeats
(``a{1000}a{1000}...``) and nested ``+`` from adding up: at most about 50 ms and
half a megabyte per compiled pattern."""

REGEX_CACHE_SIZE = 128
"""Compiled patterns kept per process (least recently used first out): with the
bounds above, at most some 50 MB even if every entry were a worst case."""
