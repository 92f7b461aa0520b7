"""Where the searched words are in a found value: the value (or a window of it around
the first match) and the spans to mark.

Highlighting is ours rather than PostgreSQL's ``ts_headline``: it splits words by the
same rule as the index (trellis.records.search_terms), so a word found through an
address (``example`` in ``ada@example.com``) is marked too, and it returns plain text
with spans, so each channel escapes the text itself (the screens with ``<mark>``, the
API as text and offsets, and as escaped HTML): a value can never inject markup.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from markupsafe import escape

#: Values up to this many characters are shown whole; longer ones as a window this wide.
SNIPPET_LENGTH = 160
_BEFORE_MATCH = 50
ELLIPSIS = "…"


@dataclasses.dataclass(frozen=True)
class Snippet:
    """Text with the spans (start, end) of the searched words in it."""

    text: str
    marks: tuple[tuple[int, int], ...]


def word_starts(words: Sequence[str]) -> re.Pattern[str]:
    """A pattern matching any of ``words`` at the start of a word, ignoring case: what a
    prefix search found."""
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(f"(?<![^\\W_])(?:{alternatives})", re.IGNORECASE)


def marked(text: str, pattern: re.Pattern[str]) -> Snippet:
    """``text`` whole, with every match of ``pattern`` marked."""
    return Snippet(text, tuple(match.span() for match in pattern.finditer(text)))


def snippet(text: str, pattern: re.Pattern[str], length: int = SNIPPET_LENGTH) -> Snippet:
    """``text``, or the window of about ``length`` characters around its first match
    (cut at spaces, with ellipses), with the matches in it marked."""
    text = " ".join(text.split())
    if len(text) <= length:
        return marked(text, pattern)
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - _BEFORE_MATCH)
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < (first.start() if first else start + 1) else start
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    window = text[start:end]
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    inner = marked(window, pattern)
    shift = len(prefix)
    return Snippet(
        f"{prefix}{window}{suffix}", tuple((a + shift, b + shift) for a, b in inner.marks)
    )


def as_html(found: Snippet) -> str:
    """The snippet as HTML: the text escaped, the marks in ``<mark>``."""
    parts: list[str] = []
    position = 0
    for start, end in found.marks:
        parts.append(str(escape(found.text[position:start])))
        parts.append(f"<mark>{escape(found.text[start:end])}</mark>")
        position = end
    parts.append(str(escape(found.text[position:])))
    return "".join(parts)
