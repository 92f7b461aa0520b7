"""Errors raised by the formula engine.

Every error carries the position of the offending part of the formula and a
two-line snippet (the source line and a caret line) so that the rule editor,
the REST API and the CLI can all show the same precise message.
"""

from __future__ import annotations

from typing import Any


class FormulaError(Exception):
    """Base class: a formula could not be parsed, checked, compiled or evaluated."""

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        end_line: int | None = None,
        end_column: int | None = None,
        source: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.source = source
        # The name meant, for an unknown field, function or global that is close to one
        # (the message says it too): an editor offers it as a fix.
        self.suggestion = suggestion

    @property
    def offsets(self) -> tuple[int, int] | None:
        """The error's span as character offsets into the source (end exclusive), or
        None without a position: what an editor underlines."""
        if self.source is None or self.line is None or self.column is None:
            return None
        starts = [0]
        for line in self.source.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        if not 1 <= self.line <= len(starts):
            return None
        start = min(starts[self.line - 1] + self.column - 1, len(self.source))
        end_line, end_column = self.end_line or self.line, self.end_column or self.column + 1
        end = starts[end_line - 1] + end_column - 1 if 1 <= end_line <= len(starts) else start
        return start, max(start, min(end, len(self.source)))

    @property
    def snippet(self) -> str:
        """The offending source line and a caret line under the error, or ""."""
        if self.source is None or self.line is None or self.column is None:
            return ""
        lines = self.source.splitlines() or [""]
        if not 1 <= self.line <= len(lines):
            return ""
        text = lines[self.line - 1]
        # Long lines are cut around the error so the snippet stays readable.
        start = max(0, self.column - 1 - 60)
        shown = text[start : start + 120]
        caret_at = self.column - 1 - start
        width = 1
        if self.end_line == self.line and self.end_column and self.end_column > self.column:
            width = min(self.end_column - self.column, len(shown) - caret_at) or 1
        prefix = "".join("\t" if char == "\t" else " " for char in shown[:caret_at])
        return f"{shown}\n{prefix}{'^' * max(width, 1)}"

    def located(
        self,
        line: int | None,
        column: int | None,
        end_line: int | None = None,
        end_column: int | None = None,
    ) -> FormulaError:
        """Fill in the position when the raiser did not know it (runtime helpers)."""
        if self.line is None:
            self.line, self.column = line, column
            self.end_line, self.end_column = end_line, end_column
        return self

    def with_source(self, source: str) -> FormulaError:
        if self.source is None:
            self.source = source
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "snippet": self.snippet,
            "offsets": list(self.offsets) if self.offsets else None,
            "suggestion": self.suggestion,
        }

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"


class FormulaSyntaxError(FormulaError):
    """The source is not a well-formed formula."""

    kind = "syntax"


class FormulaTypeError(FormulaError):
    """Unknown field or function, wrong argument count or types, wrong result type."""

    kind = "type"


class FormulaRuntimeError(FormulaError):
    """Evaluation failed: division by zero, invalid date, evaluation budget spent."""

    kind = "runtime"


class FormulaLimitError(FormulaError):
    """The formula is too long or nested too deeply to be accepted."""

    kind = "limit"


class FormulaSqlError(FormulaError):
    """The formula uses something that has no SQL translation."""

    kind = "sql"
